// Mirrors crates/domain/src/idnumber.rs tests, plus the live (as-you-type) behaviour.
import { describe, expect, it } from "vitest";
import { checkChar, checkLive, kindOf, normalizeId, parseId, segments } from "../../src/lib/idnumber";

const today = new Date(2026, 5, 1); // 2026-06-01, as in the domain tests

function withCheck(first17: string): string {
  return first17 + checkChar(first17);
}

function err(input: string) {
  const r = parseId(input, today);
  if (r.ok) throw new Error(`expected an error for ${input}`);
  return r.error;
}

describe("parseId (same answers as the server)", () => {
  it("parses the standard example", () => {
    const r = parseId("11010519491231002X", today);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.id.value).toBe("11010519491231002X");
    expect(r.id.kind).toBe("resident");
    expect(r.id.birthDate).toBe("1949-12-31");
    expect(r.id.sex).toBe("female");
  });

  it("normalizes lower-case x, whitespace and full-width characters", () => {
    expect(normalizeId("  11010519491231002x\n")).toBe("11010519491231002X");
    expect(normalizeId("１１０１０５１９４９１２３１００２Ｘ")).toBe("11010519491231002X");
    expect(parseId("110105 19491231 002x", today).ok).toBe(true);
  });

  it("says what is wrong, with the server's codes", () => {
    expect(err("   ")).toMatchObject({ code: "id_number_empty" });
    expect(err("1101051949123100")).toMatchObject({ code: "id_number_length", got: 16, part: "length" });
    expect(err("1101051949123100A2")).toMatchObject({ code: "id_number_invalid_char", position: 17, ch: "A", part: "chars" });
    expect(err("X10105194912310021")).toMatchObject({ code: "id_number_invalid_char", position: 1, ch: "X" });
    expect(err("99010519491231002X").code).toBe("id_number_region");
    expect(err("00010519491231002X")).toMatchObject({ code: "id_number_region", region: "000105", part: "region" });
    expect(err("110105194902300021")).toMatchObject({ code: "id_number_birth_date", date: "19490230", problem: "does_not_exist" });
    expect(err("110105189912310021")).toMatchObject({ code: "id_number_birth_date", date: "18991231", problem: "before_1900" });
    expect(err("110105203001010021")).toMatchObject({ code: "id_number_birth_date", date: "20300101", problem: "in_future" });
    expect(err("110105194912310021")).toMatchObject({ code: "id_number_check_digit", expected: "X", ch: "1", part: "check" });
    expect(err("11010519491231002X1")).toMatchObject({ code: "id_number_length", got: 19 });
  });

  it("accepts residence permits and foreign permanent IDs", () => {
    const kind = (s: string) => {
      const r = parseId(s, today);
      return r.ok ? r.id.kind : r.error.code;
    };
    expect(kind(withCheck("81000019990101001"))).toBe("hong_kong_permit");
    expect(kind(withCheck("82000020000229002"))).toBe("macau_permit");
    expect(kind(withCheck("83000019850615003"))).toBe("taiwan_permit");
    expect(kind(withCheck("93115619900101004"))).toBe("foreign_permanent");
    expect(kind(withCheck("81010119990101001"))).toBe("id_number_region");
    expect(kind(withCheck("90015619900101004"))).toBe("id_number_region");
    const hk = parseId(withCheck("81000019990101001"), today);
    expect(hk.ok && hk.id.sex).toBe("male");
  });

  it("computes MOD 11-2 check characters", () => {
    expect(checkChar("11010519491231002")).toBe("X");
    expect(checkChar("44052418800101001")).toBe("4");
  });
});

describe("checkLive (as the student types)", () => {
  it("is quiet while a valid prefix is being typed", () => {
    expect(checkLive("", today).status).toBe("empty");
    for (const prefix of ["1", "11", "110105", "11010519", "1101051949123", "11010519491231002"]) {
      expect(checkLive(prefix, today)).toMatchObject({ status: "typing", length: prefix.length });
    }
  });

  it("flags a bad region as soon as it is certain", () => {
    expect(checkLive("00", today)).toMatchObject({ status: "error", error: { code: "id_number_region" } });
    expect(checkLive("8", today).status).toBe("typing");
    expect(checkLive("8100", today).status).toBe("typing");
    expect(checkLive("8101", today)).toMatchObject({ status: "error", error: { code: "id_number_region" } });
    expect(checkLive("84", today)).toMatchObject({ status: "error", error: { code: "id_number_region" } });
    expect(checkLive("90", today).status).toBe("typing");
    expect(checkLive("900", today)).toMatchObject({ status: "error", error: { code: "id_number_region" } });
    expect(kindOf("931")).toBe("foreign_permanent");
  });

  it("flags a letter at once, and X anywhere but last", () => {
    expect(checkLive("1101a", today)).toMatchObject({ status: "error", error: { code: "id_number_invalid_char", position: 5, ch: "A" } });
    expect(checkLive("11010X", today)).toMatchObject({ error: { position: 6 } });
  });

  it("checks the birth date once its eight digits are in", () => {
    expect(checkLive("1101051949023", today).status).toBe("typing");
    expect(checkLive("11010519490230", today)).toMatchObject({ status: "error", error: { code: "id_number_birth_date", part: "birth" } });
    expect(checkLive("11010520260602", today)).toMatchObject({ error: { problem: "in_future" } });
    expect(checkLive("11010520260601", today).status).toBe("typing");
  });

  it("checks the check digit at the 18th character", () => {
    expect(checkLive("110105194912310021", today)).toMatchObject({ status: "error", error: { code: "id_number_check_digit", position: 18 } });
    expect(checkLive("11010519491231002x", today)).toMatchObject({ status: "ok", normalized: "11010519491231002X" });
  });
});

describe("segments", () => {
  it("splits into region · birth · sequence · check", () => {
    expect(segments("11010519491231002X").map((s) => s.text)).toEqual(["110105", "19491231", "002", "X"]);
    expect(segments("1101051949").map((s) => s.part)).toEqual(["region", "birth"]);
    expect(segments("11010519491231002X99").at(-1)).toEqual({ part: "length", text: "99" });
  });
});
