// Realistic command results for the mocked IPC of the UI tests.
import type { ItemView } from "../lib/bindings/ItemView";
import type { HintsView } from "../lib/bindings/HintsView";
import type { QueueRow } from "../lib/bindings/QueueRow";
import type { ReasonView } from "../lib/bindings/ReasonView";
import type { SyncStatusView } from "../lib/bindings/SyncStatusView";
import type { StartupView } from "../lib/bindings/StartupView";

export const REASONS: ReasonView[] = [
  ["background", "背景不合格", "Background"],
  ["selfie", "自拍", "Selfie"],
  ["ears_forehead_hidden", "耳朵或额头被遮挡", "Ears or forehead hidden"],
  ["hair_over_face", "头发遮挡面部", "Hair over face"],
  ["head_pose", "头部姿态不正", "Head not straight"],
  ["shoulders_uneven", "双肩不平", "Shoulders uneven"],
  ["expression_mouth", "表情或嘴部不自然", "Expression / mouth"],
  ["tinted_glasses_or_glare", "有色眼镜或反光", "Tinted glasses or glare"],
  ["accessories", "佩戴饰物", "Accessories"],
  ["clothing", "服装不合格", "Clothing"],
  ["other", "其他", "Other"],
].map(([code, zh, en]) => ({ code: code!, label_zh: zh!, label_en: en!, requires_comment: code === "other" }));

export const SIGNED_IN: StartupView = {
  session: { server_url: "http://127.0.0.1:8080", user_name: "reviewer1", role: "reviewer", session_only: false },
  keyring: { available: true, detail: null },
  last_server_url: "http://127.0.0.1:8080",
  last_user_name: "reviewer1",
};

export const SIGNED_OUT_NO_KEYRING: StartupView = {
  session: null,
  keyring: { available: false, detail: "no secret service provider found" },
  last_server_url: "http://10.0.0.5:8080",
  last_user_name: "reviewer2",
};

export function status(over: Partial<SyncStatusView> = {}): SyncStatusView {
  return {
    signed_in: true,
    online: true,
    syncing: false,
    outbox: 0,
    conflicts: 0,
    claimed: 2,
    last_sync_at: "2026-06-01T08:00:00Z",
    last_error: null,
    ...over,
  };
}

export function item(id: string, name: string, over: Partial<ItemView> = {}): ItemView {
  return {
    item_id: id,
    status: "claimed",
    lease_until: "2026-06-01T08:15:00Z",
    submitted_at: "2026-06-01T07:00:00Z",
    attempt_no: 1,
    flagged: false,
    flag: null,
    face_match_failures: 0,
    student: {
      name,
      id_number_masked: "110105********123X",
      student_no: "2022" + id,
      school: "示范大学",
      college: "计算机学院",
      major: "软件工程",
      level: "本科",
      graduation_year: 2026,
    },
    images: [
      { kind: "id_card_front", path: `${id}/id_front` },
      { kind: "original", path: `${id}/original` },
      { kind: "standardized", path: `${id}/standardized` },
    ],
    guide: { width: 480, height: 640, hair_top: [50, 110], eye_line: [200, 300], face_width: [180, 300] },
    history: [],
    local_decision: null,
    ...over,
  };
}

export function hints(id: string, over: Partial<HintsView> = {}): HintsView {
  return {
    item_id: id,
    overall: "warn",
    measures: [
      { id: "yaw", label_zh: "左右转头", label_en: "Head turn", raw: 2.4, score: 90, threshold: "± 5", verdict: "pass", status: "ok", message_zh: "正对镜头。", message_en: "Facing the camera." },
      { id: "sharpness", label_zh: "清晰度", label_en: "Sharpness", raw: 62, score: 55, threshold: "≥ 100", verdict: "warn", status: "ok", message_zh: "照片略模糊。", message_en: "Slightly blurred." },
    ],
    face_match: { similarity: 0.81, distance: 0.31, threshold: 0.5, same_person: true },
    ocr: null,
    flagged: false,
    face_match_failures: 0,
    overlays: [{ image: "standardized", width: 480, height: 640, face_box: [150, 140, 180, 220], landmarks: [[200, 250], [280, 250]] }],
    models: ["face_detection_short_range.onnx"],
    elapsed_ms: 412,
    ...over,
  };
}

export function rows(n: number): QueueRow[] {
  return Array.from({ length: n }, (_, i) => ({
    item_id: `case-${i}`,
    student_name: `学生${i}`,
    student_no: `2022${String(i).padStart(6, "0")}`,
    school: i % 2 ? "示范大学" : "理工学院",
    college: "计算机学院",
    submitted_at: "2026-06-01T07:00:00Z",
    waiting_minutes: 90 + i,
    status: i < 2 ? "claimed" : "pending",
    flagged: i % 7 === 0,
    attempt_no: 1,
    hint_verdict: i < 2 ? "pass" : null,
  }));
}
