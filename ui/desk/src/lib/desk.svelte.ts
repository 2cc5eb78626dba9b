// The workstation's state and the actions the views and the keyboard trigger.
import { api, imageUrl, onSyncStatus, toError } from "./ipc";
import { GridReview } from "./grid.svelte";
import type { ConflictView } from "./bindings/ConflictView";
import type { DecisionInput } from "./bindings/DecisionInput";
import type { ErrorView } from "./bindings/ErrorView";
import type { HintsView } from "./bindings/HintsView";
import type { ItemView } from "./bindings/ItemView";
import type { KeyringStatus } from "./bindings/KeyringStatus";
import type { QueueFilter } from "./bindings/QueueFilter";
import type { QueuePage } from "./bindings/QueuePage";
import type { ReasonView } from "./bindings/ReasonView";
import type { SessionView } from "./bindings/SessionView";
import type { SignInRequest } from "./bindings/SignInRequest";
import type { StatsFilterView } from "./bindings/StatsFilterView";
import type { SyncStatusView } from "./bindings/SyncStatusView";

export type Screen = "review" | "grid" | "queue" | "conflicts" | "audit" | "stats" | "quality" | "timeline" | "policy" | "staff" | "progress" | "codes";

/** How many claimed items ahead of the current one are kept loaded in memory. */
const PREFETCH_AHEAD = 3;
/** Claim more when fewer undecided items than this are held. */
const CLAIM_LOW_WATER = 3;
const CLAIM_BATCH = 10;

export const emptyFilter = (): QueueFilter => ({
  school: null,
  status: null,
  min_wait_minutes: null,
  flagged_only: false,
  hint_fail_only: false,
  search: null,
});

export class Desk {
  ready = $state(false);
  session = $state<SessionView | null>(null);
  keyring = $state<KeyringStatus>({ available: true, detail: null });
  lastServerUrl = $state<string | null>(null);
  lastUserName = $state<string | null>(null);

  screen = $state<Screen>("review");
  reasons = $state<ReasonView[]>([]);
  sync = $state<SyncStatusView>({
    signed_in: false,
    online: false,
    syncing: false,
    outbox: 0,
    conflicts: 0,
    claimed: 0,
    last_sync_at: null,
    last_error: null,
  });

  currentId = $state<string | null>(null);
  item = $state<ItemView | null>(null);
  hints = $state<HintsView | null>(null);
  hintsError = $state<ErrorView | null>(null);
  hintsLoading = $state(false);

  filter = $state<QueueFilter>(emptyFilter());
  page = $state<QueuePage | null>(null);
  conflicts = $state<ConflictView[]>([]);

  error = $state<ErrorView | null>(null);
  notice = $state<{ zh: string; en: string } | null>(null);
  busy = $state(false);

  // Review tools.
  zoom = $state({ scale: 1, x: 0, y: 0 });
  overlays = $state(false);
  rejecting = $state(false);
  selectedReasons = $state<string[]>([]);
  comment = $state("");
  helpOpen = $state(false);
  /** Grid review of the clean held photos. */
  grid = new GridReview();
  /** The case whose timeline is open (supervisor mode). */
  timelineCase = $state<string | null>(null);
  /** The screen the timeline was opened from, where its back button returns. */
  timelineFrom = $state<Screen>("audit");
  /** The statistics' filters, kept while the supervisor looks at a timeline. */
  statsFilter = $state<StatsFilterView>({ from_day: "", to_day: "", school: "", college: "" });
  /** The ID card pane shows the back (国徽面); every item opens on the front. */
  cardBack = $state(false);

  /** Loaded items and hints by id: the prefetch that makes "next" instant. */
  private items = new Map<string, ItemView>();
  private hintCache = new Map<string, HintsView>();
  private unlisten: (() => void) | null = null;

  async start(): Promise<void> {
    try {
      const s = await api.startup();
      this.keyring = s.keyring;
      this.lastServerUrl = s.last_server_url;
      this.lastUserName = s.last_user_name;
      this.session = s.session;
      this.reasons = await api.reasons();
      const un = await onSyncStatus((st) => this.onSync(st));
      this.unlisten = un;
      if (this.session) await this.enterWorkstation();
    } catch (e) {
      this.error = toError(e);
    } finally {
      this.ready = true;
    }
  }

  stop(): void {
    this.unlisten?.();
    this.unlisten = null;
  }

  async signIn(req: SignInRequest): Promise<boolean> {
    this.busy = true;
    this.error = null;
    try {
      this.session = await api.signIn(req);
      this.lastServerUrl = req.server_url;
      this.lastUserName = req.user_name;
      await this.enterWorkstation();
      return true;
    } catch (e) {
      this.error = toError(e);
      return false;
    } finally {
      this.busy = false;
    }
  }

  async signOut(): Promise<void> {
    this.busy = true;
    try {
      await api.signOut();
    } catch (e) {
      this.error = toError(e);
    } finally {
      this.busy = false;
    }
    this.session = null;
    this.screen = "review";
    this.currentId = null;
    this.item = null;
    this.hints = null;
    this.items.clear();
    this.hintCache.clear();
    this.page = null;
    this.grid.reset();
  }

  private async enterWorkstation(): Promise<void> {
    this.sync = await api.syncStatus();
    // Administrators manage schools; they hold no photos to review.
    if (this.isAdmin) {
      this.screen = "progress";
      return;
    }
    let first = await api.nextItem(null);
    if (!first) {
      first = await this.claimMore();
    }
    if (first) await this.show(first);
    await this.refreshQueue();
  }

  private onSync(st: SyncStatusView): void {
    const before = this.sync;
    this.sync = st;
    if (st.conflicts !== before.conflicts && this.screen === "conflicts") void this.loadConflicts();
    if (st.online && this.error?.code === "server_unreachable") this.error = null;
    // A decision left the outbox (or became a conflict): show the item's new state.
    const it = this.item;
    if (it && it.status === "decided" && (st.outbox < before.outbox || st.conflicts > before.conflicts)) {
      this.items.delete(it.item_id);
      void api.item(it.item_id).then((fresh) => {
        if (this.currentId === fresh.item_id) this.item = fresh;
      }, () => undefined);
    }
  }

  async claimMore(): Promise<string | null> {
    try {
      const r = await api.claim(CLAIM_BATCH);
      if (r.claimed === 0) this.notice = { zh: "队列中暂无待审核照片", en: "No photos waiting in the queue" };
      return r.first_item_id;
    } catch (e) {
      this.error = toError(e);
      return null;
    }
  }

  async load(id: string): Promise<ItemView> {
    const cached = this.items.get(id);
    if (cached) return cached;
    const it = await api.item(id);
    this.items.set(id, it);
    return it;
  }

  /** Shows an item at once from the prefetch, then warms the next ones. */
  async show(id: string): Promise<void> {
    this.error = null;
    this.currentId = id;
    this.rejecting = false;
    this.selectedReasons = [];
    this.comment = "";
    this.zoom = { scale: 1, x: 0, y: 0 };
    this.cardBack = false;
    try {
      const it = await this.load(id);
      if (this.currentId !== id) return;
      this.item = it;
      this.screen = "review";
      const h = this.hintCache.get(id);
      this.hints = h ?? null;
      this.hintsError = null;
      if (!h) void this.loadHints(id);
      void this.prefetchAfter(id);
    } catch (e) {
      this.error = toError(e);
    }
  }

  private async loadHints(id: string): Promise<void> {
    this.hintsLoading = true;
    try {
      const h = await api.hints(id);
      this.hintCache.set(id, h);
      if (this.currentId === id) this.hints = h;
    } catch (e) {
      if (this.currentId === id) this.hintsError = toError(e);
    } finally {
      if (this.currentId === id) this.hintsLoading = false;
    }
  }

  private async prefetchAfter(id: string): Promise<void> {
    let cursor: string | null = id;
    for (let i = 0; i < PREFETCH_AHEAD && cursor; i++) {
      const next: string | null = await api.nextItem(cursor).catch(() => null);
      if (!next) break;
      const it = await this.load(next).catch(() => null);
      if (it && typeof Image !== "undefined") {
        for (const img of it.images) new Image().src = imageUrl(img.path);
      }
      cursor = next;
    }
  }

  async next(): Promise<void> {
    const n = await api.nextItem(this.currentId).catch((e) => {
      this.error = toError(e);
      return null;
    });
    if (n) return this.show(n);
    const claimed = await this.claimMore();
    if (claimed) return this.show(claimed);
  }

  async previous(): Promise<void> {
    if (!this.currentId) return;
    const p = await api.previousItem(this.currentId).catch(() => null);
    if (p) await this.show(p);
  }

  canDecide(): boolean {
    return !!this.item && this.item.status === "claimed" && !this.busy;
  }

  async approve(): Promise<void> {
    await this.decide({ kind: "approve" });
  }

  startReject(): void {
    if (!this.canDecide()) return;
    this.rejecting = true;
  }

  toggleReason(code: string): void {
    const i = this.selectedReasons.indexOf(code);
    if (i >= 0) this.selectedReasons = this.selectedReasons.filter((c) => c !== code);
    else this.selectedReasons = [...this.selectedReasons, code];
  }

  /**
   * What the rejection being composed still lacks, in the workstation core's words (the rule is
   * the domain's, applied again by `decide`); null when it is complete.
   */
  rejectProblem = $state<{ zh: string; en: string } | null>(null);
  private rejectCheckSeq = 0;

  private rejectDraft(): DecisionInput {
    const comment = this.comment.trim();
    return { kind: "reject", reasons: [...this.selectedReasons], comment: comment === "" ? null : comment };
  }

  /** Asks the core whether the rejection being composed is complete; the latest answer wins. */
  async checkReject(): Promise<void> {
    const seq = ++this.rejectCheckSeq;
    let problem: { zh: string; en: string } | null = null;
    try {
      await api.checkDecision(this.rejectDraft());
    } catch (e) {
      const err = toError(e);
      problem = { zh: err.message_zh, en: err.message_en };
    }
    if (seq === this.rejectCheckSeq) this.rejectProblem = problem;
  }

  async confirmReject(): Promise<void> {
    await this.checkReject();
    if (this.rejectProblem) {
      this.notice = this.rejectProblem;
      return;
    }
    await this.decide(this.rejectDraft());
  }

  private async decide(decision: DecisionInput): Promise<void> {
    const it = this.item;
    if (!it || !this.canDecide()) return;
    this.busy = true;
    this.notice = null;
    try {
      const r = await api.decide({ item_id: it.item_id, decision });
      this.items.delete(it.item_id);
      if (r.next_item_id) {
        this.busy = false;
        await this.show(r.next_item_id);
      } else {
        this.item = await api.item(it.item_id);
        this.busy = false;
        const more = await this.claimMore();
        if (more) await this.show(more);
      }
      if (this.sync.claimed - 1 < CLAIM_LOW_WATER) void api.claim(CLAIM_BATCH).catch(() => undefined);
    } catch (e) {
      this.error = toError(e);
    } finally {
      this.busy = false;
    }
  }

  async refreshQueue(): Promise<void> {
    try {
      this.page = await api.queue($state.snapshot(this.filter));
    } catch (e) {
      this.error = toError(e);
    }
  }

  async loadConflicts(): Promise<void> {
    try {
      this.conflicts = await api.conflicts();
    } catch (e) {
      this.error = toError(e);
    }
  }

  async dismissConflict(id: number): Promise<void> {
    try {
      await api.dismissConflict(id);
      this.conflicts = this.conflicts.filter((c) => c.id !== id);
    } catch (e) {
      this.error = toError(e);
    }
  }

  async syncNow(): Promise<void> {
    try {
      this.sync = await api.syncNow();
    } catch (e) {
      this.error = toError(e);
    }
  }

  /** Administrators see only the administration screens (the server decides who is one). */
  get isAdmin(): boolean {
    return this.session?.role === "admin";
  }

  /** Supervisors also read the audit history (the server decides who is one). */
  get isSupervisor(): boolean {
    return this.session?.role === "supervisor";
  }

  go(screen: Screen): void {
    this.screen = screen;
    if (screen === "queue") void this.refreshQueue();
    if (screen === "conflicts") void this.loadConflicts();
    if (screen === "grid") void this.grid.open();
  }

  /** Opens a student's whole history (supervisor mode). */
  openTimeline(caseId: string): void {
    this.timelineCase = caseId;
    if (this.screen !== "timeline") this.timelineFrom = this.screen;
    this.screen = "timeline";
  }

  flipCard(): void {
    this.cardBack = !this.cardBack;
  }

  toggleZoom(): void {
    this.zoom = this.zoom.scale > 1 ? { scale: 1, x: 0, y: 0 } : { scale: 2.5, x: 0, y: 0 };
  }
}
