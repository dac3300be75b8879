// The business's branded email: every email a customer gets from a business
// (a portal link, a follow-up, a receipt, an autopay notice) is this one layout,
// views/messages/email/layout.html.hbs, in the business's colour with its name on
// top and its contact details at the foot, its fixed words from the catalogue in
// the message's language. Only what each message says differs. It sits in the db
// layer because receipts and follow-ups are worded there (src/db/sql), below messaging.
import fs from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { t, type Language } from '../i18n/index.js';
import { joinValueStops, markValueStops } from '../i18n/full-stop.js';
import { viewsDir } from '../paths.js';
import { brandPalette } from '../lib/contrast.js';
import { phoneText } from '../lib/phone.js';

export interface Branding {
  businessName: string;
  brandColor: string;
  businessEmail?: string | null;
  businessPhone?: string | null;
}

/** The business as its messages show it: the phone written the way its country writes numbers, as the portal does. */
export function brandingOf(org: {
  name: string;
  brand_color: string;
  email: string | null;
  phone: string | null;
  locale: string;
}): Branding {
  return { businessName: org.name, brandColor: org.brand_color, businessEmail: org.email, businessPhone: phoneText(org.phone, org.locale) };
}

/**
 * The business as a message's facts carry it, read from `organizations as o` by
 * ORG_BRANDING_COLUMNS (receipts, follow-ups and autopay notices all select it so).
 */
export interface OrgBrandingFacts {
  org_name: string;
  org_brand_color: string;
  org_email: string | null;
  org_phone: string | null;
  locale: string;
}

/** The select-list that fills OrgBrandingFacts from `organizations as o`. */
export const ORG_BRANDING_COLUMNS =
  'o.name as org_name, o.brand_color as org_brand_color, o.email as org_email, o.phone as org_phone, o.locale'; // i18n-exempt: SQL column names

/** brandingOf() for a message's facts (OrgBrandingFacts). */
export function brandingOfFacts(f: OrgBrandingFacts): Branding {
  return brandingOf({ name: f.org_name, brand_color: f.org_brand_color, email: f.org_email, phone: f.org_phone, locale: f.locale });
}

// i18n-exempt: a file name
const layout = Handlebars.compile(fs.readFileSync(path.join(viewsDir, 'messages/email/layout.html.hbs'), 'utf8'), { strict: false });

export interface BrandedEmail {
  lang: Language;
  subject: string;
  /** The message's paragraphs as HTML, each already escaped (a value inside may carry <strong> or a link). */
  paragraphsHtml: string[];
  /** The customer's page: a button to it, its address under the button, and the footer says the link is private. */
  link?: string | null;
  /** The button's words, when not "Open your customer page". */
  buttonLabel?: string;
  brand: Branding;
}

/** The whole HTML document of a customer email, in the business's branding. */
export function brandedEmailHtml(email: BrandedEmail): string {
  const { lang, brand } = email;
  const palette = brandPalette(brand.brandColor);
  // The footer ends "Sent by <business> · <email> · <phone>." (src/i18n/full-stop.ts).
  const footer = markValueStops({
    businessName: brand.businessName,
    businessEmail: brand.businessEmail ?? null,
    businessPhone: brand.businessPhone ?? null,
  });
  const html = layout({
    lang,
    words: {
      openButton: email.buttonLabel ?? t(lang, 'messages:layout.openButton'),
      copyAddress: t(lang, 'messages:layout.copyAddress'),
      sentBy: t(lang, 'messages:layout.sentBy'),
      private: t(lang, 'messages:layout.private'),
    },
    subject: email.subject,
    paragraphs: email.paragraphsHtml.map((p) => new Handlebars.SafeString(p)),
    link: email.link ?? null,
    ...footer,
    brandColor: palette.brand,
    onBrand: palette.onBrand,
    brandText: palette.brandText,
  });
  return joinValueStops(html);
}
