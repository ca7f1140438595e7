/** RFC 9110's character classes, for what the server reads from clients and writes for apps. */

/** A token (§5.6.2): field names, methods. */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** What a field value (§5.5) or a reason phrase (RFC 9112 §4) may hold: HTAB, SP, VCHAR, obs-text. */
export const FIELD_TEXT = /^[\t\x20-\x7e\x80-\xff]*$/;
