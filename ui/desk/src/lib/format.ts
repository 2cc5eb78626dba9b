// Small display helpers shared by the views.

export function waitingLabel(minutes: number): { zh: string; en: string } {
  if (minutes < 60) return { zh: `${minutes} 分钟`, en: `${minutes} min` };
  const h = Math.floor(minutes / 60);
  if (h < 48) return { zh: `${h} 小时`, en: `${h} h` };
  const d = Math.floor(h / 24);
  return { zh: `${d} 天`, en: `${d} d` };
}

export function timeLabel(rfc3339: string | null): string {
  if (!rfc3339) return "—";
  const d = new Date(rfc3339);
  if (Number.isNaN(d.getTime())) return rfc3339;
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function formatRaw(v: number | null): string {
  if (v === null) return "—";
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

export const VERDICT_LABEL: Record<string, { zh: string; en: string }> = {
  pass: { zh: "通过", en: "Pass" },
  warn: { zh: "注意", en: "Warn" },
  fail: { zh: "不合格", en: "Fail" },
};

export const STATUS_LABEL: Record<string, { zh: string; en: string }> = {
  pending: { zh: "待领取", en: "Pending" },
  claimed: { zh: "已领取", en: "Claimed" },
  decided: { zh: "待同步", en: "In outbox" },
  synced: { zh: "已同步", en: "Synced" },
  conflict: { zh: "冲突", en: "Conflict" },
};

export const IMAGE_LABEL: Record<string, { zh: string; en: string }> = {
  id_card_front: { zh: "身份证人像面", en: "ID card front" },
  id_card_back: { zh: "身份证国徽面", en: "ID card back" },
  enrollment: { zh: "学籍照片", en: "Enrollment photo" },
  original: { zh: "原始上传", en: "Original upload" },
  standardized: { zh: "标准化照片", en: "Standardized" },
};

export const CONFLICT_LABEL: Record<string, { zh: string; en: string }> = {
  lease_lost: { zh: "领取已失效", en: "Lease lost" },
  withdrawn: { zh: "学生已撤回", en: "Withdrawn by student" },
  overridden: { zh: "已被主管改判", en: "Overridden by supervisor" },
  refused: { zh: "服务器拒绝", en: "Refused by server" },
};
