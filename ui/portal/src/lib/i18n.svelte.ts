// Interface language: zh-CN first, English on request. The choice is kept in localStorage so
// it survives reloads; everything on screen reads `ui.lang` and re-renders when it changes.

import { en, zh, type Messages } from "./messages";

export type Lang = "zh" | "en";

const STORAGE_KEY = "gradphoto.lang";

function initialLang(): Lang {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved === "zh" || saved === "en") return saved;
  } catch {
    // Private mode or storage disabled: fall through to the default.
  }
  return "zh";
}

export const ui = $state({ lang: initialLang() as Lang });

export function setLang(lang: Lang): void {
  ui.lang = lang;
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // Not fatal: the choice just won't survive a reload.
  }
  if (typeof document !== "undefined") document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
}

export type MessageKey = keyof Messages;

/** Looks up a message and fills `{name}` placeholders. */
export function t(key: MessageKey, params?: Record<string, string | number>): string {
  // Keys built at run time (e.g. a measure the server added later) fall back to the key itself.
  return format((ui.lang === "zh" ? zh[key] : en[key]) ?? key, params);
}

export function format(text: string, params?: Record<string, string | number>): string {
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}

/** Picks the zh or en variant of a pair the server sent. */
export function pick(zhText: string | undefined | null, enText: string | undefined | null): string {
  return (ui.lang === "zh" ? zhText || enText : enText || zhText) ?? "";
}
