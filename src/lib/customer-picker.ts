// The "Choose a customer" select of the proposal, job and invoice forms.

/** The id in a form's lead_id when it looks like one (to keep the chosen customer in the list). */
export function chosenLeadId(values: Record<string, unknown>): string | null {
  return typeof values.lead_id === 'string' && /^[0-9a-f-]{36}$/.test(values.lead_id) ? values.lead_id : null;
}

export function customerOptions(leads: { id: string; first_name: string; last_name: string; email?: string | null }[], withEmail = false) {
  return [
    { value: '', label: 'dashboard:customer.choose' },
    ...leads.map((l) => {
      const name = `${l.first_name} ${l.last_name}`.trim();
      return { value: l.id, label: withEmail && l.email ? `${name} · ${l.email}` : name };
    }),
  ];
}
