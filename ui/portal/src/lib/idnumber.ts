// Live validation of the 18-character ID number (GB 11643-1999, MOD 11-2 check digit).
// Mirrors the server's rules so a student learns about a typo before submitting; the server
// re-checks everything and its answer is the one that counts.

import type { ErrorCode } from "./types";

export type IdKind =
  | "resident" // 居民身份证
  | "hong_kong_permit" // 港澳台居民居住证（香港）810000
  | "macau_permit" // 港澳台居民居住证（澳门）820000
  | "taiwan_permit" // 港澳台居民居住证（台湾）830000
  | "foreign_permanent"; // 外国人永久居留身份证 (9 + province code)

/** Which part of the number is wrong; the form highlights that part. */
export type IdPart = "length" | "chars" | "region" | "birth" | "check";

/**
 * The server's codes (crates/domain idnumber::IdError): every generated error code about the ID
 * number, so a code the server adds must be handled here (idtext.ts switches over all of them).
 */
export type IdErrorCode = Extract<ErrorCode, `id_number_${string}`>;

export type DateProblem = "does_not_exist" | "in_future" | "before_1900";

export interface IdError {
  code: IdErrorCode;
  part: IdPart;
  /** 1-based position of the offending character (invalid_char). */
  position?: number;
  ch?: string;
  /** Characters typed (length). */
  got?: number;
  /** The six-digit region prefix (region). */
  region?: string;
  /** YYYYMMDD as typed (birth_date). */
  date?: string;
  problem?: DateProblem;
  /** Check character computed from the first 17 digits (check_digit). */
  expected?: string;
}

export interface IdNumber {
  value: string;
  kind: IdKind;
  birthDate: string; // YYYY-MM-DD
  sex: "male" | "female";
}

export type LiveCheck =
  | { status: "empty" }
  | { status: "typing"; normalized: string; length: number }
  | { status: "error"; normalized: string; error: IdError }
  | { status: "ok"; normalized: string; id: IdNumber };

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS = "10X98765432";

// Province-level codes of GB/T 2260 (first two digits of a resident ID), plus 71 (Taiwan).
const PROVINCES = new Set([
  11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51,
  52, 53, 54, 61, 62, 63, 64, 65, 71,
]);

/**
 * Drops whitespace (people group the digits), turns full-width digits and letters into ASCII
 * (Chinese input methods produce them) and upper-cases a trailing x — as the server does.
 */
export function normalizeId(input: string): string {
  let out = "";
  for (const c of input) {
    if (/\s/.test(c)) continue;
    const code = c.codePointAt(0) as number;
    const fullWidth =
      (code >= 0xff10 && code <= 0xff19) || (code >= 0xff21 && code <= 0xff3a) || (code >= 0xff41 && code <= 0xff5a);
    out += (fullWidth ? String.fromCodePoint(code - 0xfee0) : c).toUpperCase();
  }
  return out;
}

/** The MOD 11-2 check character for the first 17 digits. */
export function checkChar(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * WEIGHTS[i];
  return CHECK_CHARS[sum % 11];
}

const PERMITS: Record<string, IdKind> = {
  "810000": "hong_kong_permit",
  "820000": "macau_permit",
  "830000": "taiwan_permit",
};

/**
 * The kind of document for a (possibly partial) number: null when the prefix typed so far can
 * no longer be valid, "pending" when more characters are needed to tell.
 */
export function kindOf(id: string): IdKind | "pending" | null {
  for (const [prefix, kind] of Object.entries(PERMITS)) {
    if (id.length >= 6 ? id.startsWith(prefix) : false) return kind;
  }
  if (id.startsWith("8") && id.length < 6) {
    const two = id.slice(0, 2);
    // 81/82/83 must continue as 8x0000; any other 8x is an ordinary (invalid) province.
    if (id.length < 2) return "pending";
    if (two === "81" || two === "82" || two === "83") {
      return `${two}0000`.startsWith(id) ? "pending" : null;
    }
  }
  if (id.startsWith("9")) {
    if (id.length < 3) return "pending";
    return PROVINCES.has(Number(id.slice(1, 3))) ? "foreign_permanent" : null;
  }
  if (id.length < 2) return "pending";
  return PROVINCES.has(Number(id.slice(0, 2))) ? "resident" : null;
}

function firstInvalidChar(id: string): number {
  for (let i = 0; i < Math.min(id.length, 18); i++) {
    const c = id[i];
    if (!((c >= "0" && c <= "9") || (c === "X" && i === 17))) return i;
  }
  return -1;
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

export function localDate(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

function birthProblem(date: string, today: Date): DateProblem | null {
  const year = Number(date.slice(0, 4));
  const month = Number(date.slice(4, 6));
  const day = Number(date.slice(6, 8));
  if (month < 1 || month > 12 || day < 1) return "does_not_exist";
  if (day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return "does_not_exist";
  if (year < 1900) return "before_1900";
  if (`${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}` > localDate(today)) return "in_future";
  return null;
}

function err(normalized: string, error: IdError): LiveCheck {
  return { status: "error", normalized, error };
}

/**
 * Checks what has been typed so far. Errors are reported as soon as they are certain: an
 * invalid character or region at once, the birth date once its eight digits are in, the check
 * digit and an excess length at the 18th/19th character. Same codes as the server.
 */
export function checkLive(input: string, today: Date = new Date()): LiveCheck {
  const id = normalizeId(input);
  if (id.length === 0) return { status: "empty" };
  if (id.length > 18) return err(id, { code: "id_number_length", part: "length", got: id.length });
  const bad = firstInvalidChar(id);
  if (bad >= 0) {
    return err(id, { code: "id_number_invalid_char", part: "chars", position: bad + 1, ch: id[bad] });
  }
  if (kindOf(id) === null) {
    return err(id, { code: "id_number_region", part: "region", region: id.slice(0, 6) });
  }
  if (id.length >= 14) {
    const date = id.slice(6, 14);
    const problem = birthProblem(date, today);
    if (problem) return err(id, { code: "id_number_birth_date", part: "birth", date, problem });
  }
  if (id.length < 18) return { status: "typing", normalized: id, length: id.length };
  const expected = checkChar(id);
  if (expected !== id[17]) {
    return err(id, { code: "id_number_check_digit", part: "check", position: 18, ch: id[17], expected });
  }
  return { status: "ok", normalized: id, id: describe(id) };
}

/** Final check before submitting: an incomplete number is an error here. */
export function parseId(input: string, today: Date = new Date()): { ok: true; id: IdNumber } | { ok: false; error: IdError } {
  const live = checkLive(input, today);
  switch (live.status) {
    case "empty":
      return { ok: false, error: { code: "id_number_empty", part: "length" } };
    case "typing":
      return { ok: false, error: { code: "id_number_length", part: "length", got: live.length } };
    case "error":
      return { ok: false, error: live.error };
    case "ok":
      return { ok: true, id: live.id };
  }
}

function describe(id: string): IdNumber {
  return {
    value: id,
    kind: kindOf(id) as IdKind,
    birthDate: `${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}`,
    sex: Number(id[16]) % 2 === 1 ? "male" : "female",
  };
}

/** The parts of a number as the form shows them: region · birth date · sequence · check. */
export function segments(id: string): { part: IdPart | "seq"; text: string }[] {
  const out: { part: IdPart | "seq"; text: string }[] = [];
  const cut: [IdPart | "seq", number, number][] = [
    ["region", 0, 6],
    ["birth", 6, 14],
    ["seq", 14, 17],
    ["check", 17, 18],
  ];
  for (const [part, a, b] of cut) {
    const text = id.slice(a, b);
    if (text) out.push({ part, text });
  }
  if (id.length > 18) out.push({ part: "length", text: id.slice(18) });
  return out;
}
