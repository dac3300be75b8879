// How long a text message is in what carriers bill: segments. GSM-7 text fits
// 160 characters in one segment; one character outside it (a curly quote, an
// emoji, and in Spanish an accented á, í, ó or ú — é, ñ, ü, ¡ and ¿ are GSM-7)
// makes the whole message UCS-2, 70 per segment. Counted by Twilio's
// sms-segments-calculator rather than by hand.
import { SegmentedMessage } from 'sms-segments-calculator';
import { t, DEFAULT_LANGUAGE, type Language } from '../i18n/index.js';

export interface SmsSize {
  characters: number;
  segments: number;
  /** UCS-2: some character forced the 70-per-segment encoding. */
  unicode: boolean;
  /** "142 characters · 1 text message", or what it costs when it runs over, in the reader's language. */
  note: string;
}

export function smsSize(text: string, lang: Language = DEFAULT_LANGUAGE): SmsSize {
  const message = new SegmentedMessage(text);
  const segments = message.segmentsCount;
  const characters = message.numberOfCharacters;
  const unicode = message.encodingName === 'UCS-2';
  const key = segments <= 1 ? 'messages:sms.oneText' : unicode ? 'messages:sms.severalUnicode' : 'messages:sms.severalGsm';
  const note = t(lang, key, { count: characters, segments });
  return { characters, segments, unicode, note };
}
