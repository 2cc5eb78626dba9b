// The student's session token, kept per personal code in localStorage: reopening the same link
// in the same browser resumes, while the same link in another browser has no token and must
// claim the code — which the server refuses once it is bound (一人一码).

const PREFIX = "gradphoto.session.";

function key(code: string): string {
  return PREFIX + code;
}

export function loadToken(code: string): string | null {
  try {
    return localStorage.getItem(key(code));
  } catch {
    return null;
  }
}

export function saveToken(code: string, token: string): void {
  try {
    localStorage.setItem(key(code), token);
  } catch {
    // Storage disabled (some private modes): the session lasts while the page is open.
  }
}

export function forgetToken(code: string): void {
  try {
    localStorage.removeItem(key(code));
  } catch {
    // Nothing stored.
  }
}

/** The personal code in a link: /c/<code> (also accepted: ?code=<code>, a QR scanner's habit). */
export function codeFromLocation(pathname: string, search: string): string | null {
  const m = /^\/c\/([^/?#]+)\/?$/.exec(pathname);
  if (m) {
    try {
      const code = decodeURIComponent(m[1]).trim();
      return code || null;
    } catch {
      return null;
    }
  }
  const q = new URLSearchParams(search).get("code");
  return q && q.trim() ? q.trim() : null;
}

const LAST = "gradphoto.last_code";

/** The code this browser last opened, so the bare address (e.g. after paying) resumes it. */
export function rememberCode(code: string): void {
  try {
    localStorage.setItem(LAST, code);
  } catch {
    // Not fatal.
  }
}

export function lastCode(): string | null {
  try {
    return localStorage.getItem(LAST);
  } catch {
    return null;
  }
}
