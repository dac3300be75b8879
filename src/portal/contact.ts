// How a customer reaches the business from the portal: call, text, email and
// WhatsApp links from the org's contact details, with phone numbers shown the
// way people in the business's country write them.
import { DEFAULT_LANGUAGE, t, type Language } from '../i18n/index.js';
import { shownPhone, type ShownPhone } from '../lib/phone.js';

export interface PortalContact {
  name: string;
  phone: ShownPhone | null;
  email: { address: string; mailto: string } | null;
  whatsapp: string | null;
  address: string | null;
  /** At least one way to reach the business. */
  any: boolean;
}

/** An E.164 number for display and links, in the national format of the locale's country. */
function portalPhone(e164: string | null, locale: string): ShownPhone | null {
  return e164 ? shownPhone(e164, locale) : null;
}

/** A wa.me link that opens a chat with the number, the message typed in. */
export function waMe(number: string | null, text: string): string | null {
  const digits = number?.replace(/\D/g, '');
  // i18n-exempt: a URL
  return digits ? `https://wa.me/${digits}?text=${encodeURIComponent(text)}` : null;
}

/** wa.me link with a message naming the customer and, on a document page, the document, in the customer's language. */
export function whatsappHref(
  number: string | null,
  orgName: string,
  customerName: string,
  about?: string,
  lang: Language = DEFAULT_LANGUAGE,
): string | null {
  const values = { org: orgName, customer: customerName, about };
  return waMe(number, t(lang, about ? 'portal:contact.question' : 'portal:contact.hello', values));
}

interface ContactOrg {
  name: string;
  phone: string | null;
  email: string | null;
  whatsapp_number: string | null;
  address: string | null;
  locale: string;
}

/** The business's ways to be reached; numbers in the format of the business's country, whatever the customer's language. */
export function portalContact(org: ContactOrg, customerName: string, about?: string, lang: Language = DEFAULT_LANGUAGE): PortalContact {
  const phone = portalPhone(org.phone, org.locale);
  const email = org.email ? { address: org.email, mailto: `mailto:${org.email}` } : null;
  const whatsapp = whatsappHref(org.whatsapp_number, org.name, customerName, about, lang);
  return { name: org.name, phone, email, whatsapp, address: org.address, any: !!(phone || email || whatsapp) };
}
