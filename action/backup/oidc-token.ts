// `auth: oidc`: the runner's GitHub ID token is the Worker's bearer token, so the repository
// holds no Worker secret. ID tokens are short-lived, so a fresh one is asked for when the one in
// hand is a few minutes old: a long backup still records its metadata with a valid token.
import * as core from '@actions/core';
import { ValidationError } from '../../common/validate.js';
import { BackupInputs } from '../constants.js';

const REFRESH_AFTER_MS = 4 * 60_000;

export function oidcTokenProvider(audience: string): () => Promise<string> {
  let cached: { token: string; fetchedAt: number } | undefined;
  return async () => {
    if (cached && Date.now() - cached.fetchedAt < REFRESH_AFTER_MS) return cached.token;
    if (!process.env.ACTIONS_ID_TOKEN_REQUEST_URL || !process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
      throw new ValidationError(
        BackupInputs.Auth,
        'is oidc, but the runner offers no ID token: add `permissions: id-token: write` to the job',
      );
    }
    let token: string;
    try {
      token = await core.getIDToken(audience);
    } catch (error) {
      throw new Error(
        `${BackupInputs.Auth}: oidc: the runner gave no ID token for audience ${audience}: ${(error as Error).message}`,
      );
    }
    core.setSecret(token);
    cached = { token, fetchedAt: Date.now() };
    return token;
  };
}
