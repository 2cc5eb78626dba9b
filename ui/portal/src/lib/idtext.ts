// Turns an ID-number validation result into a sentence in the current language.

import type { IdError, IdNumber } from "./idnumber";
import { t, type MessageKey } from "./i18n.svelte";

export function idErrorText(e: IdError): string {
  switch (e.code) {
    case "id_number_empty":
      return t("id_number_empty");
    case "id_number_length":
      return t("id_number_length", { got: e.got ?? 0 });
    case "id_number_invalid_char":
      return t("id_number_invalid_char", { pos: e.position ?? 0, ch: e.ch ?? "" });
    case "id_number_region":
      return t("id_number_region", { code: e.region ?? "" });
    case "id_number_birth_date":
      return t(`id_number_birth_date_${e.problem ?? "does_not_exist"}` as MessageKey, { date: e.date ?? "" });
    case "id_number_check_digit":
      return t("id_number_check_digit", { expected: e.expected ?? "", got: e.ch ?? "" });
  }
}

export function idOkText(id: IdNumber): string {
  return t(`id_ok_${id.kind}` as MessageKey, { birth: id.birthDate });
}
