// Grid review: the held photos whose local hints all pass, all selected at first; the reviewer
// leaves out any doubtful one and approves the rest in one action (each its own decision).
import { api, toError } from "./ipc";
import type { ErrorView } from "./bindings/ErrorView";
import type { GridApproveResult } from "./bindings/GridApproveResult";
import type { GridTileView } from "./bindings/GridTileView";
import type { GridView } from "./bindings/GridView";

export class GridReview {
  view = $state<GridView | null>(null);
  /** Photos of the grid the reviewer left out (everything else shown is selected). */
  deselected = $state<string[]>([]);
  /**
   * Photos left out of an approval: they stay held for single review, and the grid does not
   * offer them again (selected by default, a second Enter would approve what was doubted).
   */
  setAside = $state<string[]>([]);
  focus = $state(0);
  /** Columns the grid is laid out in now (the view measures it), for Up and Down. */
  cols = $state(8);
  loading = $state(false);
  /** How many photos the approval under way covers; null when none is under way. */
  approving = $state<number | null>(null);
  result = $state<GridApproveResult | null>(null);
  error = $state<ErrorView | null>(null);

  get tiles(): GridTileView[] {
    const aside = this.setAside;
    return (this.view?.tiles ?? []).filter((t) => !aside.includes(t.item_id));
  }

  get selected(): string[] {
    const out = this.deselected;
    return this.tiles.map((t) => t.item_id).filter((id) => !out.includes(id));
  }

  isSelected(id: string): boolean {
    return !this.deselected.includes(id);
  }

  private take(v: GridView): void {
    this.view = v;
    const shown = this.tiles.map((t) => t.item_id);
    this.deselected = this.deselected.filter((id) => shown.includes(id));
    this.focus = Math.max(0, Math.min(this.focus, shown.length - 1));
  }

  /** Entering the grid: claims up to a full grid, then shows what is clean. */
  async open(): Promise<void> {
    this.loading = true;
    this.error = null;
    try {
      this.take(await api.gridFill());
    } catch (e) {
      this.error = toError(e);
    } finally {
      this.loading = false;
    }
  }

  /** Re-reads the grid from the cache (hints computed since join it). */
  async refresh(): Promise<void> {
    if (this.approving !== null) return;
    try {
      this.take(await api.grid());
    } catch (e) {
      this.error = toError(e);
    }
  }

  toggle(index: number = this.focus): void {
    const t = this.tiles[index];
    if (!t || this.approving !== null) return;
    this.focus = index;
    this.deselected = this.deselected.includes(t.item_id)
      ? this.deselected.filter((id) => id !== t.item_id)
      : [...this.deselected, t.item_id];
  }

  /** Moves the focus by `dx` tiles across and `dy` rows. */
  move(dx: number, dy: number): void {
    const n = this.tiles.length;
    if (n === 0) return;
    const to = this.focus + dx + dy * Math.max(1, this.cols);
    this.focus = Math.max(0, Math.min(n - 1, to));
  }

  async approve(): Promise<void> {
    const ids = this.selected;
    if (ids.length === 0 || this.approving !== null) return;
    const left = this.tiles.map((t) => t.item_id).filter((id) => !ids.includes(id));
    this.approving = ids.length;
    this.error = null;
    try {
      this.result = await api.gridApprove(ids);
      this.setAside = [...this.setAside, ...left];
      this.deselected = [];
      this.focus = 0;
    } catch (e) {
      this.error = toError(e);
    } finally {
      this.approving = null;
    }
    await this.open();
  }

  /** Signing out or in again starts a fresh grid. */
  reset(): void {
    this.view = null;
    this.deselected = [];
    this.setAside = [];
    this.focus = 0;
    this.result = null;
    this.error = null;
  }
}
