// The student API (crates/server/src/http/student.rs), one function per route.

import { request, upload, type Upload } from "./api";
import type {
  AttemptView,
  ClaimRequest,
  ClaimResponse,
  ConsentRequest,
  PaymentResponse,
  PhotoSource,
  PublicSchool,
  StudentCase,
  SubmitRequest,
} from "./types";

/** Uploads left in the current round (the server refuses more with too_many_photos). */
export function attemptsLeft(c: StudentCase): number {
  const used = c.attempts.filter((a) => a.round === c.round).length;
  return Math.max(0, c.policy.max_attempts_per_round - used);
}

export const student = {
  /** With a session token the server answers for the student's school; without, for the only school. */
  school: () => request<PublicSchool>("GET", "/api/public/school"),
  claim: (code: string) => request<ClaimResponse>("POST", "/api/student/claim", { json: { code } satisfies ClaimRequest }),
  getCase: () => request<StudentCase>("GET", "/api/student/case"),
  consent: (version: string) =>
    request<StudentCase>("POST", "/api/student/consent", { json: { version, accepted: true } satisfies ConsentRequest }),
  /** Multipart with upload progress: two phone photos of the ID card can take a while on 3G. */
  identity: (name: string, idNumber: string, front: Blob, back: Blob, onProgress: (f: number) => void): Upload<StudentCase> => {
    const form = new FormData();
    form.append("name", name);
    form.append("id_number", idNumber);
    form.append("id_front", front, fileName(front, "id_front"));
    form.append("id_back", back, fileName(back, "id_back"));
    return upload<StudentCase>("/api/student/identity", form, onProgress);
  },
  confirm: () => request<StudentCase>("POST", "/api/student/confirm", { json: {} }),
  pay: () => request<PaymentResponse>("POST", "/api/student/payment", { json: {} }),
  uploadAttempt: (
    photo: Blob,
    uploadId: string,
    source: PhotoSource,
    onProgress: (f: number) => void,
  ): Upload<AttemptView> => {
    const form = new FormData();
    // Fields before the file so the server can dedupe before reading the whole body.
    form.append("upload_id", uploadId);
    form.append("source", source);
    form.append("photo", photo, fileName(photo, "photo"));
    return upload<AttemptView>("/api/student/attempts", form, onProgress, { "Idempotency-Key": uploadId });
  },
  attempt: (id: string) => request<AttemptView>("GET", `/api/student/attempts/${encodeURIComponent(id)}`),
  submit: (attemptId: string) =>
    request<StudentCase>("POST", "/api/student/submit", { json: { attempt_id: attemptId } satisfies SubmitRequest }),
  withdraw: () => request<StudentCase>("POST", "/api/student/withdraw", { json: {} }),
  retake: () => request<StudentCase>("POST", "/api/student/retake", { json: {} }),
};

export function attemptImagePath(id: string, which: "original" | "standardized.jpg"): string {
  return `/api/student/attempts/${encodeURIComponent(id)}/${which}`;
}

function fileName(b: Blob, base: string): string {
  if (b instanceof File && b.name) return b.name;
  const ext = b.type === "image/png" ? "png" : b.type === "image/jpeg" ? "jpg" : "bin";
  return `${base}.${ext}`;
}
