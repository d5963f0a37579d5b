// Every input and output of the backup action (action.yml) and the restore sub-action
// (restore/action.yml), named once: the code reads, sets and names them in messages through
// these, and test/action/constants.test.ts checks them against both action.yml files.

export const BackupInputs = {
  Tenant: 'tenant',
  Bucket: 'bucket',
  BucketMap: 'bucket-map',
  R2AccountId: 'r2-account-id',
  R2Endpoint: 'r2-endpoint',
  R2AccessKeyId: 'r2-access-key-id',
  R2SecretAccessKey: 'r2-secret-access-key',
  ApiUrl: 'api-url',
  ApiToken: 'api-token',
  Auth: 'auth',
  OidcAudience: 'oidc-audience',
  Path: 'path',
  Exclude: 'exclude',
  Compression: 'compression',
  FailOnApiError: 'fail-on-api-error',
  PartSizeMib: 'part-size-mib',
  KeepLast: 'keep-last',
  KeepDays: 'keep-days',
  KeepDaily: 'keep-daily',
  KeepWeekly: 'keep-weekly',
  KeepMonthly: 'keep-monthly',
  IncludeGitHistory: 'include-git-history',
  ShallowHistory: 'shallow-history',
  SyncFiles: 'sync-files',
  SyncKeepDeleted: 'sync-keep-deleted',
  EncryptionRecipients: 'encryption-recipients',
  IncludeMetadata: 'include-metadata',
  GithubToken: 'github-token',
  MetadataMaxWaitSeconds: 'metadata-max-wait-seconds',
  IncludeWiki: 'include-wiki',
  IncludeLfs: 'include-lfs',
} as const;

export const BackupOutputs = {
  Tenant: 'tenant',
  Bucket: 'bucket',
  BackupKey: 'backup-key',
  BackupFile: 'backup-file',
  Size: 'size',
  Sha256: 'sha256',
  FileCount: 'file-count',
  DurationMs: 'duration-ms',
  BundleKey: 'bundle-key',
  BundleSize: 'bundle-size',
  BundleSha256: 'bundle-sha256',
  Pruned: 'pruned',
  FilesUploaded: 'files-uploaded',
  FilesDeleted: 'files-deleted',
  FilesUnchanged: 'files-unchanged',
  SyncRequests: 'sync-requests',
  MetadataKey: 'metadata-key',
  MetadataSize: 'metadata-size',
  MetadataSha256: 'metadata-sha256',
  MetadataPartial: 'metadata-partial',
  WikiKey: 'wiki-key',
  WikiSize: 'wiki-size',
  WikiSha256: 'wiki-sha256',
  LfsObjects: 'lfs-objects',
  LfsStored: 'lfs-stored',
} as const;

export const RestoreInputs = {
  Tenant: 'tenant',
  Bucket: 'bucket',
  Backup: 'backup',
  Commit: 'commit',
  Target: 'target',
  Force: 'force',
  AllowUnverified: 'allow-unverified',
  MaxBytes: 'max-bytes',
  History: 'history',
  Wiki: 'wiki',
  Metadata: 'metadata',
  Identity: 'identity',
  ApiUrl: 'api-url',
  ApiToken: 'api-token',
  R2AccountId: 'r2-account-id',
  R2Endpoint: 'r2-endpoint',
  R2AccessKeyId: 'r2-access-key-id',
  R2SecretAccessKey: 'r2-secret-access-key',
} as const;

export const RestoreOutputs = {
  BackupFile: 'backup-file',
  BackupKey: 'backup-key',
  Commit: 'commit',
  Sha256: 'sha256',
  Size: 'size',
  Entries: 'entries',
  Target: 'target',
  // With `history: true` or `wiki: true`, in place of the archive's key, SHA-256, size and entries.
  BundleKey: 'bundle-key',
  BundleSha256: 'bundle-sha256',
  BundleSize: 'bundle-size',
  Refs: 'refs',
  HeadCommit: 'head-commit',
  HeadBranch: 'head-branch',
  // With `metadata: true`, in place of the archive's: named as the backup action names them.
  MetadataKey: 'metadata-key',
  MetadataSha256: 'metadata-sha256',
  MetadataSize: 'metadata-size',
  MetadataPartial: 'metadata-partial',
  MetadataCounts: 'metadata-counts',
} as const;

export type BackupInput = (typeof BackupInputs)[keyof typeof BackupInputs];
export type BackupOutput = (typeof BackupOutputs)[keyof typeof BackupOutputs];
export type RestoreInput = (typeof RestoreInputs)[keyof typeof RestoreInputs];
export type RestoreOutput = (typeof RestoreOutputs)[keyof typeof RestoreOutputs];
