// What the portal checks about a chosen file before uploading it. The server checks again
// (decoding, pixel limits); this only spares a student a long upload that cannot succeed.

export const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;

const IMAGE_EXT = /\.(jpe?g|png|heic|heif|webp)$/i;

export type FileProblem =
  | { key: "file_empty" }
  | { key: "file_too_large"; size: number }
  | { key: "file_not_image" };

export function fileProblem(file: { size: number; type: string; name?: string }, maxBytes = MAX_UPLOAD_BYTES): FileProblem | null {
  if (file.size === 0) return { key: "file_empty" };
  if (file.size > maxBytes) return { key: "file_too_large", size: file.size };
  // Some phones report HEIC photos with an empty type; the extension decides then.
  const typed = file.type !== "";
  const looksImage = typed ? file.type.startsWith("image/") : IMAGE_EXT.test(file.name ?? "");
  if (!looksImage) return { key: "file_not_image" };
  return null;
}
