// Upload rules as the server sends them with a case (crates/api UploadRules::new): its default
// limit and the formats it can process.
import type { UploadRules } from "../../src/lib/types";

export const uploads: UploadRules = {
  max_upload_bytes: 20 * 1024 * 1024,
  accepted_formats: [
    { format: "jpeg", name: "JPEG", mime: "image/jpeg", extensions: ["jpg", "jpeg"] },
    { format: "png", name: "PNG", mime: "image/png", extensions: ["png"] },
  ],
};
