import { createRequire } from 'node:module';

/**
 * Buffers at least this large come from a mapping of their own, in transparent huge pages
 * where the kernel has them; smaller ones are ordinary ArrayBuffers.
 */
export const LARGE_BUFFER_BYTES = 4 * 1024 * 1024;

// Linux's values (the same on x86-64 and arm64); mmap-io does not name them.
const MAP_ANONYMOUS = 0x20;
const MADV_HUGEPAGE = 14;

type Mmap = typeof import('mmap-io').default;
let mmap: Mmap | null | undefined;

function loadMmap(): Mmap | null {
  if (mmap === undefined) {
    try {
      mmap = process.platform === 'linux' ? (createRequire(import.meta.url)('mmap-io') as Mmap) : null;
    } catch {
      mmap = null;
    }
  }
  return mmap;
}

/**
 * A zeroed ArrayBuffer of `bytes` bytes. A large one (a memtable's index and version fields
 * when it holds millions of records, a flush's sort lanes) is an anonymous mapping advised
 * for huge pages: every page of it is written, and the first write to a 4 KiB page costs a
 * page fault, ~10 us each on this project's VMs (a 256 MiB array took 0.7 s to fill, 0.06-0.44 s in
 * 2 MiB pages). It is unmapped when the ArrayBuffer is collected. Where the mapping or the
 * advice is refused, it is an ordinary ArrayBuffer or a mapping in small pages.
 */
export function zeroedBuffer(bytes: number): ArrayBuffer {
  if (bytes < LARGE_BUFFER_BYTES) return new ArrayBuffer(bytes);
  const m = loadMmap();
  if (m === null) return new ArrayBuffer(bytes);
  let mapped: Buffer;
  try {
    mapped = m.map(bytes, (m.PROT_READ | m.PROT_WRITE) as 3, m.MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  } catch {
    return new ArrayBuffer(bytes);
  }
  try {
    m.advise(mapped, MADV_HUGEPAGE as Parameters<Mmap['advise']>[1]);
  } catch {
    // No transparent huge pages here: still a zeroed mapping, in small pages.
  }
  const buffer = mapped.buffer;
  return buffer instanceof ArrayBuffer && mapped.byteOffset === 0 && buffer.byteLength === bytes
    ? buffer
    : new ArrayBuffer(bytes);
}
