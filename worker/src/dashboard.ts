// The dashboard's static files (worker/dashboard/, Workers static assets), served by the Worker
// so that each answer carries a strict Content-Security-Policy: only this origin's own script,
// style and API, no inline code, no framing. The page holds no data: it asks the JSON routes
// with the token the user gives it.
import type { Env } from './env.js';
import { notFound } from './http.js';

export const DASHBOARD_CSP =
  "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'";

export async function serveDashboard(request: Request, env: Env): Promise<Response> {
  const assets = env.ASSETS;
  if (new URL(request.url).pathname.startsWith('/api/') || !assets) return notFound();
  // A fresh request: the router's is not one the assets binding accepts.
  const asset = await assets.fetch(new Request(request.url, { method: 'GET', headers: request.headers }));
  const response = new Response(asset.body, asset);
  response.headers.set('content-security-policy', DASHBOARD_CSP);
  response.headers.set('x-content-type-options', 'nosniff');
  response.headers.set('referrer-policy', 'no-referrer');
  response.headers.set('x-frame-options', 'DENY');
  return response;
}
