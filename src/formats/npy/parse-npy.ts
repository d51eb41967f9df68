import { EdgeforgeError } from "../../core/errors.js";

/**
 * A little-endian float32 .npy file (NumPy's format, versions 1–3): the values as a
 * Float32Array in row-major order (a view of the file's bytes where they are 4-byte aligned and row-major, a copy otherwise) and the shape.
 * Only what MLX's `save` writes for float32 arrays is accepted; anything else is a typed error.
 */
export function parseNpyFloat32(bytes: Uint8Array, where: string): { values: Float32Array; shape: number[] } {
  const fail = (why: string) => new EdgeforgeError("CORRUPT_MODEL", `${where} is not a float32 .npy array: ${why}`, { hint: "only little-endian float32 .npy arrays are read", details: { where } });
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b)) throw fail("no .npy magic");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6] as number;
  const headerStart = major === 1 ? 10 : 12;
  if (major < 1 || major > 3 || bytes.length < headerStart) throw fail(`format version ${major}`);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.length) throw fail("header runs past the end");
  const header = new TextDecoder("latin1").decode(bytes.subarray(headerStart, dataStart));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  if (descr !== "<f4") throw fail(`dtype ${descr ?? "missing"} (want <f4)`);
  const fortranOrder = /'fortran_order':\s*True/.test(header);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (shapeText === undefined) throw fail("no shape");
  const shape = shapeText
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean)
    .map(Number);
  if (shape.some((n) => !Number.isSafeInteger(n) || n < 0)) throw fail(`shape (${shapeText})`);
  const count = shape.reduce((product, n) => product * n, 1);
  if (bytes.length - dataStart !== count * 4) throw fail(`${bytes.length - dataStart} data bytes for ${count} float32 values`);
  // A Buffer's slice() is a view, not a copy: copy through a fresh Uint8Array when unaligned.
  const offset = bytes.byteOffset + dataStart;
  const stored = offset % 4 === 0 ? new Float32Array(bytes.buffer, offset, count) : new Float32Array(new Uint8Array(bytes.subarray(dataStart)).buffer);
  // Column-major data (MLX writes a transposed array that way) is the same bytes when at most one dimension exceeds 1.
  const values = fortranOrder && shape.filter((n) => n > 1).length > 1 ? toRowMajor(stored, shape) : stored;
  return { values, shape };
}

/** A column-major (Fortran-order) array's values in row-major (C) order. */
function toRowMajor(columnMajor: Float32Array, shape: readonly number[]): Float32Array {
  const strides: number[] = [];
  let stride = 1;
  for (const n of shape) {
    strides.push(stride);
    stride *= n;
  }
  const rowMajor = new Float32Array(columnMajor.length);
  const index = shape.map(() => 0);
  let source = 0;
  for (let target = 0; target < rowMajor.length; target += 1) {
    rowMajor[target] = columnMajor[source] as number;
    // Advance the row-major index (last dimension fastest), keeping the column-major offset in step.
    for (let axis = shape.length - 1; axis >= 0; axis -= 1) {
      const next = (index[axis] as number) + 1;
      if (next < (shape[axis] as number)) {
        index[axis] = next;
        source += strides[axis] as number;
        break;
      }
      source -= (next - 1) * (strides[axis] as number);
      index[axis] = 0;
    }
  }
  return rowMajor;
}
