import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { MAX_IMPORT_LINE_CHARS, UnreadableFileError } from '../domain/events/history-import';

const GZIP_MAGIC = [0x1f, 0x8b];

/**
 * The bytes of a file as written, gunzipped when they start as gzip does: a file is told by its
 * content, not its name, so `events.jsonl.gz` renamed or sent without its suffix still reads.
 */
async function* decompressed(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const iterator = source[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  let next = await iterator.next();
  while (!next.done && head.length < GZIP_MAGIC.length) {
    head = Buffer.concat([head, next.value]);
    next = await iterator.next();
  }
  const first = next;
  async function* replay(): AsyncGenerator<Uint8Array> {
    if (head.length > 0) yield head;
    for (let item = first; !item.done; item = await iterator.next()) yield item.value;
  }
  if (head[0] !== GZIP_MAGIC[0] || head[1] !== GZIP_MAGIC[1]) {
    yield* replay();
    return;
  }
  try {
    yield* pipeline(Readable.from(replay()), createGunzip(), () => undefined) as AsyncIterable<Uint8Array>;
  } catch (error) {
    // zlib's codes (Z_DATA_ERROR, Z_BUF_ERROR for a file cut off); a failing source is not the file's fault.
    if (String((error as NodeJS.ErrnoException).code).startsWith('Z_')) throw new UnreadableFileError(`the file starts as gzip but is not valid gzip (${(error as Error).message}): corrupt or cut off`, { cause: error });
    throw error;
  }
}

/**
 * The lines of a JSON Lines file (plain or gzipped), without their line ends. Bytes that are not
 * UTF-8 become U+FFFD and fail their line alone. A line longer than MAX_IMPORT_LINE_CHARS is cut
 * just past that length as it is read, so memory stays bounded and the import refuses it.
 */
export async function* jsonLines(source: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  let pending = '';
  for await (const chunk of decompressed(source)) {
    pending += decoder.decode(chunk, { stream: true });
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) yield line.endsWith('\r') ? line.slice(0, -1) : line;
    if (pending.length > MAX_IMPORT_LINE_CHARS) pending = pending.slice(0, MAX_IMPORT_LINE_CHARS + 1);
  }
  pending += decoder.decode();
  if (pending !== '') yield pending.endsWith('\r') ? pending.slice(0, -1) : pending;
}
