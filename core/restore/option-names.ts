// How the caller spells the restore's options, so that shared messages tell the user what to
// set in their own terms: the CLI's flags (`--force`) or the restore sub-action's inputs
// (`force: true`).
export interface RestoreOptionNames {
  /** Replace a non-empty target. */
  force: string;
  /** Restore a record the Worker does not vouch for. */
  allowUnverified: string;
  /** The most the archive may expand to. */
  maxBytes: string;
  /** The age identity that decrypts an encrypted backup. */
  identity?: string;
}
