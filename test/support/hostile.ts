// Hostile-but-legal text the test factories put in every record, so a page,
// email or text message that prints a value unescaped (or escapes plain text
// twice) shows up in tests. The demo seed (src/dev/seed.ts) keeps realistic
// names such as "O'Brien & Sons"; these are for tests only.

/** A business or customer name with every character HTML escapes. */
export const HOSTILE_NAME = `O'Brien & Sons <Ltd> "quoted"`;
/** A right-to-left first name with an emoji. */
export const RTL_EMOJI_NAME = 'سارة 🏡';
/** The test org owner's name. */
export const OWNER_NAME = `Olive "Ollie" O'Owner 🦉`;
/** A note that runs script if printed raw. */
export const HOSTILE_NOTE = '<img src=x onerror=alert(1)>';

/** Markup that must never reach an HTML page or email as markup. */
export const RAW_MARKUP = ['<Ltd>', '<img src=x', 'onerror=alert(1)>'];

/** What Handlebars (and any correct HTML escaper) turns those into. */
export const ESCAPED_MARKUP = ['&lt;Ltd&gt;', '&lt;img src'];

/** HTML entities that must never appear in plain text (an SMS, an email's text part, a subject). */
export const ENTITIES = /&(?:amp|lt|gt|quot|#x27|#39|#x3D|#x60);/;
