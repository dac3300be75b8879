// How long a text message is in what carriers bill: segments. GSM-7 text fits
// 160 characters in one segment; one character outside it (a curly quote, an
// emoji) makes the whole message UCS-2, 70 per segment. Counted by Twilio's
// sms-segments-calculator rather than by hand.
import { SegmentedMessage } from 'sms-segments-calculator';

export interface SmsSize {
  characters: number;
  segments: number;
  /** UCS-2: some character forced the 70-per-segment encoding. */
  unicode: boolean;
  /** "142 characters · 1 text message", or what it costs when it runs over. */
  note: string;
}

export function smsSize(text: string): SmsSize {
  const message = new SegmentedMessage(text);
  const segments = message.segmentsCount;
  const characters = message.numberOfCharacters;
  const unicode = message.encodingName === 'UCS-2';
  const note =
    segments <= 1
      ? `${characters} characters · 1 text message`
      : `${characters} characters · sent as ${segments} text messages${unicode ? ' (a special character such as ’ or an emoji limits each to 70)' : ' (each holds 160 characters)'}. Shorten it to send one.`;
  return { characters, segments, unicode, note };
}
