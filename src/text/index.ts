/**
 * The one place bytes become text: charset names (Java's and WHATWG's) resolved to what Node can do, whole-buffer
 * and streaming decoders, encoders, the charset option builder, and line splitting on the `\n` byte.
 */
export { resolveCharset, charsetName, COMMON_CHARSETS } from './names.js';
export {
  charsetFor,
  findCharset,
  hasUtf8Bom,
  UndecodableError,
  type Charset,
  type DecodeErrorPolicy,
} from './charset.js';
export type { StreamDecoder } from './utf.js';
export { charsetOption, charsetForNeed, charsetTypeText, type CharsetNeed } from './option.js';
export { LineSplitter, type LineSink, type OversizePolicy, type Terminators } from './lines.js';
export { charLineSplitter, replyEncoder, type CharLineSplitter } from './char-lines.js';
