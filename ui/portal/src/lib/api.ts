// Talking to the server. Every failure becomes an ApiError carrying a stable code and a zh and
// an en message, whether the server sent them ({code, message_zh, message_en}) or the request
// never got an answer, so the screen always has a sentence to show.

import type { ErrorBody, ErrorCode } from "./types";

/** Failures the portal names itself: no answer, or an answer that is not the server's. */
export type ClientErrorCode =
  | "network_error"
  | "upload_aborted"
  | "payload_too_large"
  | "server_unavailable"
  | "unexpected_response";

/** The body of an ApiError: the server's (its codes are generated from crates/api) or the portal's own. */
export type ApiErrorBody = Omit<ErrorBody, "code"> & { code: ErrorCode | ClientErrorCode };

export class ApiError extends Error {
  readonly status: number;
  /** Compared against the generated codes, so a misspelt code fails the type check. */
  readonly code: ErrorCode | ClientErrorCode;
  readonly message_zh: string;
  readonly message_en: string;
  readonly field?: string;
  readonly retryAfterS?: number;

  constructor(status: number, body: ApiErrorBody) {
    super(`${body.code}: ${body.message_en}`);
    this.name = "ApiError";
    this.status = status;
    this.code = body.code;
    this.message_zh = body.message_zh;
    this.message_en = body.message_en;
    this.field = body.field;
    this.retryAfterS = body.retry_after_s;
  }

  /** True when no answer arrived (offline, DNS, reset): worth retrying as is. */
  get isNetwork(): boolean {
    return this.status === 0;
  }
}

export function networkError(): ApiError {
  return new ApiError(0, {
    code: "network_error",
    message_zh: "无法连接服务器，请检查网络后重试。",
    message_en: "Cannot reach the server. Check your connection and try again.",
  });
}

export function abortedError(): ApiError {
  return new ApiError(0, {
    code: "upload_aborted",
    message_zh: "上传已取消。",
    message_en: "The upload was cancelled.",
  });
}

/** The server's error shape. The portal ships inside the server binary, so a code is one of its own. */
function isErrorBody(v: unknown): v is ErrorBody {
  if (typeof v !== "object" || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.code === "string" && typeof o.message_zh === "string" && typeof o.message_en === "string";
}

/** Builds the error for a non-2xx answer; a body that is not ours (a proxy's HTML page) still gets words. */
export function errorFromResponse(status: number, text: string): ApiError {
  try {
    const body: unknown = JSON.parse(text);
    if (isErrorBody(body)) return new ApiError(status, body);
  } catch {
    // Not JSON: fall through.
  }
  if (status === 413) {
    // The server answers 413 in JSON (upload_too_large, naming its limit); a bare 413 comes from
    // a proxy in front of it, whose limit is not known here, so no number is promised.
    return new ApiError(status, {
      code: "payload_too_large",
      message_zh: "文件太大，上传被拒绝。请选择更小的照片后重试。",
      message_en: "The file is too large and the upload was refused. Choose a smaller photo and try again.",
    });
  }
  if (status === 502 || status === 503 || status === 504) {
    return new ApiError(status, {
      code: "server_unavailable",
      message_zh: `服务器暂时不可用（${status}），请稍后重试。`,
      message_en: `The server is temporarily unavailable (${status}). Please try again shortly.`,
    });
  }
  return new ApiError(status, {
    code: "unexpected_response",
    message_zh: `服务器返回了无法识别的内容（${status}），请稍后重试。`,
    message_en: `The server sent an unexpected answer (${status}). Please try again later.`,
  });
}

let bearer: string | null = null;

export function setToken(token: string | null): void {
  bearer = token;
}

export function getToken(): string | null {
  return bearer;
}

/** Hook for "your session is no longer valid" (401): the app sends the student back to their link. */
let onUnauthorized: ((e: ApiError) => void) | null = null;
export function setUnauthorizedHandler(f: ((e: ApiError) => void) | null): void {
  onUnauthorized = f;
}

export interface RequestOptions {
  json?: unknown;
  form?: FormData;
  signal?: AbortSignal;
}

export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  let body: BodyInit | undefined;
  if (opts.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(opts.json);
  } else if (opts.form) {
    body = opts.form;
  }
  return readResponse<T>(fetch(path, { method, headers, body, signal: opts.signal, credentials: "same-origin" }));
}

/** Turns a fetch into data or an ApiError (also used for the request index.html starts early). */
export async function readResponse<T>(pending: Promise<Response>): Promise<T> {
  let res: Response;
  try {
    res = await pending;
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") throw abortedError();
    throw networkError();
  }
  const text = await res.text().catch(() => "");
  if (!res.ok) {
    const e = errorFromResponse(res.status, text);
    if (res.status === 401 && onUnauthorized) onUnauthorized(e);
    throw e;
  }
  if (text === "") return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw errorFromResponse(res.status, text);
  }
}

export interface Upload<T> {
  promise: Promise<T>;
  abort(): void;
}

/**
 * Multipart upload through XMLHttpRequest, because fetch cannot report upload progress.
 * `onProgress` receives 0..1.
 */
export function upload<T>(
  path: string,
  form: FormData,
  onProgress: (fraction: number) => void,
  extraHeaders: Record<string, string> = {},
): Upload<T> {
  const xhr = new XMLHttpRequest();
  const promise = new Promise<T>((resolve, reject) => {
    xhr.open("POST", path);
    xhr.setRequestHeader("Accept", "application/json");
    if (bearer) xhr.setRequestHeader("Authorization", `Bearer ${bearer}`);
    for (const [k, v] of Object.entries(extraHeaders)) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (ev) => {
      if (ev.lengthComputable && ev.total > 0) onProgress(ev.loaded / ev.total);
    };
    xhr.onload = () => {
      const text = typeof xhr.responseText === "string" ? xhr.responseText : "";
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        try {
          resolve(JSON.parse(text) as T);
        } catch {
          reject(errorFromResponse(xhr.status, text));
        }
      } else {
        const e = errorFromResponse(xhr.status, text);
        if (xhr.status === 401 && onUnauthorized) onUnauthorized(e);
        reject(e);
      }
    };
    xhr.onerror = () => reject(networkError());
    xhr.ontimeout = () => reject(networkError());
    xhr.onabort = () => reject(abortedError());
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}

/** A random id for idempotent uploads: a retry of the same photo sends the same id. */
export function newUploadId(): string {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  const bytes = new Uint8Array(16);
  if (c && typeof c.getRandomValues === "function") c.getRandomValues(bytes);
  else for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Loads an image that needs the session token (an <img src> cannot send it) as an object URL. */
export async function fetchImageUrl(path: string): Promise<string> {
  const headers: Record<string, string> = {};
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  let res: Response;
  try {
    res = await fetch(path, { headers, credentials: "same-origin" });
  } catch {
    throw networkError();
  }
  if (!res.ok) throw errorFromResponse(res.status, await res.text().catch(() => ""));
  return URL.createObjectURL(await res.blob());
}
