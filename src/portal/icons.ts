// The portal's icons, inlined as SVG when the page renders (no icon font, no
// extra request): lucide-static for the interface, simple-icons for the
// WhatsApp mark. Each is decorative (aria-hidden); the link or button it sits
// in carries the words or the accessible name.
import {
  Calendar,
  Check,
  Clock,
  Download,
  FileText,
  Mail,
  MapPin,
  MessageSquare,
  Phone,
  Receipt,
  User,
  Wallet,
  Wrench,
} from 'lucide-static';
import { siWhatsapp } from 'simple-icons';

/** An SVG string on one line, hidden from assistive technology, at the given size. */
function inline(svg: string, size: number): string {
  return (
    svg
      .replace(/\s+/g, ' ')
      .replace(/>\s+</g, '><')
      .replace(/\s*\/>/g, '/>')
      // i18n-exempt: SVG markup
      .replace('<svg ', `<svg aria-hidden="true" focusable="false" `)
      .replace(/ width="\d+"/, ` width="${size}"`)
      .replace(/ height="\d+"/, ` height="${size}"`)
      .trim()
  );
}

const LUCIDE = { Calendar, Check, Clock, Download, FileText, Mail, MapPin, MessageSquare, Phone, Receipt, User, Wallet, Wrench };

/** Icon name → inline SVG, built once. */
export const portalIcons: Record<string, string> = Object.fromEntries(
  Object.entries(LUCIDE).map(([name, svg]) => [name.charAt(0).toLowerCase() + name.slice(1), inline(svg, 20)]),
);

// The WhatsApp mark in its brand colour's shape (simple-icons' path, filled with currentColor).
// i18n-exempt: SVG markup
portalIcons.whatsapp = `<svg aria-hidden="true" focusable="false" width="28" height="28" viewBox="0 0 24 24" fill="currentColor" xmlns="http://www.w3.org/2000/svg"><path d="${siWhatsapp.path}"/></svg>`;
