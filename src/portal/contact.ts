// How a customer reaches the business from the portal: call, text, email and
// WhatsApp links from the org's contact details, with phone numbers shown the
// way people in the business's country write them.
import { getCountryCallingCode, parsePhoneNumberFromString } from 'libphonenumber-js';
import { DEFAULT_LANGUAGE, t, type Language } from '../i18n/index.js';
import { memoize } from '../lib/memo.js';
import { phoneCountryFor } from '../lib/phone.js';

interface PortalPhone {
  /** As shown: national format at home ("(555) 555-0142"), international otherwise. */
  display: string;
  /** tel:+15555550142 */
  tel: string;
  /** sms:+15555550142 */
  sms: string;
}

export interface PortalContact {
  name: string;
  phone: PortalPhone | null;
  email: { address: string; mailto: string } | null;
  whatsapp: string | null;
  address: string | null;
  /** At least one way to reach the business. */
  any: boolean;
}

/** An E.164 number for display and links, in the national format of the locale's country. */
function portalPhone(e164: string | null, locale: string): PortalPhone | null {
  return e164 ? formattedPhone(`${locale} ${e164}`) : null;
}

/** "<locale> <E.164>" → the number as shown and linked (remembered: the same business's number on every view). */
const formattedPhone = memoize((key: string): PortalPhone => {
  const space = key.indexOf(' ');
  const locale = key.slice(0, space);
  const e164 = key.slice(space + 1);
  const parsed = parsePhoneNumberFromString(e164);
  if (!parsed) return { display: e164, tel: `tel:${e164}`, sms: `sms:${e164}` };
  // Same calling code as the business's country (US and CA share +1): written the local way.
  const home = parsed.countryCallingCode === getCountryCallingCode(phoneCountryFor(locale));
  return {
    display: home ? parsed.formatNational() : parsed.formatInternational(),
    tel: parsed.getURI(),
    sms: `sms:${parsed.number}`,
  };
});

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
