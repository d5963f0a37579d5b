// The dashboard: a token asked for once (kept in sessionStorage, never in the URL), then the
// Worker's JSON routes: the tenants of a bucket with each one's summary, and a tenant's
// backups newest first with the exact `r2-backup restore` command for each. Everything shown
// is set as text, never as HTML.
/* global document, window, location, navigator, sessionStorage, fetch, URLSearchParams, Node */
import uPlot from '/vendor/uplot/uPlot.esm.js';

const TOKEN_KEY = 'r2-backup-token';
const PAGE = 20;

const $ = (id) => document.getElementById(id);
const token = () => sessionStorage.getItem(TOKEN_KEY);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === 'class') node.className = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

class Unauthorized extends Error {}

async function api(path) {
  const response = await fetch(path, { headers: { authorization: `Bearer ${token()}` } });
  if (response.status === 401) throw new Unauthorized('The token was refused');
  const body = await response.json();
  if (!response.ok) throw new Error(body.reason ? `${body.error}: ${body.reason}` : body.error);
  return body;
}

const bytes = (n) => {
  if (n === null || n === undefined) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
};
const age = (hours) =>
  hours < 1
    ? `${Math.round(hours * 60)} min`
    : hours < 48
      ? `${hours.toFixed(1)} h`
      : `${(hours / 24).toFixed(1)} d`;
const usd = (n) => `$${n.toFixed(n < 1 ? 4 : 2)}`;
const badge = (state) => el('span', { class: `badge ${state}` }, state);

// The retention in force, as list and summary answer it: the Worker's policy
// (RETENTION_POLICIES, snake_case fields) and its lock (MIN_RETENTION_DAYS).
const policyRules = (policy) =>
  Object.entries(policy)
    .map(([rule, n]) => `${rule.replace('_', '-')} ${n}`)
    .join(', ');
const policyText = (retention) =>
  retention.policy ? policyRules(retention.policy) : 'none: nothing is deleted automatically';
const lockText = (retention) =>
  retention.min_retention_days > 0
    ? `backups stored in the last ${retention.min_retention_days} days cannot be deleted`
    : 'none';
const retentionShort = (retention) => {
  if (!retention) return '';
  const rules = retention.policy ? policyRules(retention.policy) : 'none';
  return retention.min_retention_days > 0 ? `${rules}; locked ${retention.min_retention_days} days` : rules;
};

/** The command that restores one backup, as a user types it. */
export const restoreCommand = (tenant, bucket, file) =>
  `r2-backup restore --tenant ${tenant} --bucket ${bucket} --backup ${file} --target ./${file.replace(/\.tar.*$/, '')}`;

function bucketParam() {
  const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
  return params.get('bucket') ?? '';
}

async function overview() {
  const asked = bucketParam();
  const list = await api(`/api/github/backup/tenants${asked ? `?bucket=${encodeURIComponent(asked)}` : ''}`);
  $('bucket').value = list.bucket;
  const tenants = [...list.tenants];
  let cursor = list.cursor;
  while (cursor) {
    const next = await api(
      `/api/github/backup/tenants?bucket=${list.bucket}&cursor=${encodeURIComponent(cursor)}`,
    );
    tenants.push(...next.tenants);
    cursor = next.cursor;
  }
  const summaries = await Promise.all(tenants.map((t) => api(t.summary)));
  const total = summaries.reduce(
    (sum, s) => ({ bytes: sum.bytes + s.bytes_stored, cost: sum.cost + s.monthly_storage_cost_usd }),
    { bytes: 0, cost: 0 },
  );
  const rows = summaries.map((s) =>
    el(
      'tr',
      { 'data-tenant': s.tenant },
      el(
        'td',
        {},
        el('a', { href: `#/tenant/${encodeURIComponent(s.tenant)}?bucket=${s.bucket}` }, s.tenant),
      ),
      el('td', {}, badge(s.state)),
      el('td', {}, s.newest ? `${age(s.newest.age_hours)} ago` : 'never'),
      el('td', {}, s.newest ? s.newest.branch : ''),
      el('td', {}, s.newest ? el('code', {}, s.newest.commit.slice(0, 12)) : ''),
      el('td', { class: 'num' }, s.newest ? bytes(s.newest.size) : ''),
      el('td', { class: 'num' }, s.backups),
      el('td', { class: 'num' }, bytes(s.bytes_stored)),
      el('td', { class: 'num' }, usd(s.monthly_storage_cost_usd)),
      el('td', {}, s.last_status ? badge(s.last_status.status) : ''),
      el('td', {}, s.newest ? (s.newest.bundle ? 'yes' : 'no') : ''),
      el('td', {}, s.last_drill ? badge(s.last_drill.status) : 'never'),
      el('td', { class: 'retention' }, retentionShort(s.retention)),
    ),
  );
  return el(
    'section',
    {},
    el('h2', {}, `Tenants in ${list.bucket}`),
    el(
      'table',
      { id: 'tenants' },
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          ...[
            'Tenant',
            'State',
            'Newest',
            'Branch',
            'Commit',
            'Size',
            'Backups',
            'Stored',
            'Per month',
            'Last run',
            'History',
            'Last drill',
            'Retention',
          ].map((h) => el('th', {}, h)),
        ),
      ),
      el('tbody', {}, rows),
      el(
        'tfoot',
        {},
        el(
          'tr',
          {},
          el('td', { colspan: '7' }, `${summaries.length} tenants`),
          el('td', { class: 'num' }, bytes(total.bytes)),
          el('td', { class: 'num', id: 'total-cost' }, usd(total.cost)),
          el('td', { colspan: '4' }),
        ),
      ),
    ),
    el(
      'p',
      { class: 'muted' },
      'Storage cost at R2 Standard storage prices (R2_STORAGE_PRICE_PER_GB_MONTH); operations are not counted.',
    ),
  );
}

async function tenantPage(tenant) {
  const bucket = bucketParam();
  const s = await api(
    `/api/github/backup/tenants/${encodeURIComponent(tenant)}/summary?bucket=${encodeURIComponent(bucket)}`,
  );
  const fact = (label, value, id) => el('div', id ? { id } : {}, el('dt', {}, label), el('dd', {}, value));
  const body = el('tbody');
  const more = el('button', { type: 'button', id: 'more', hidden: '' }, 'More');
  const chart = el('div', { id: 'size-chart' });
  const points = [];
  let cursor;
  let retention; // from the first page: the Worker's policy and lock for this tenant
  const draw = () => {
    // Archive size over time, oldest first, for the backups loaded so far.
    const sorted = points.filter((p) => p.size !== null).sort((a, b) => a.time - b.time);
    chart.replaceChildren();
    if (sorted.length === 0) return;
    new uPlot(
      {
        width: Math.min(900, document.body.clientWidth - 48),
        height: 220,
        series: [
          {},
          {
            label: 'Archive size',
            stroke: '#0969da',
            fill: 'rgba(9,105,218,0.1)',
            value: (u, v) => bytes(v),
          },
        ],
        axes: [{}, { values: (u, ticks) => ticks.map(bytes), size: 80 }],
      },
      [sorted.map((p) => p.time), sorted.map((p) => p.size)],
      chart,
    );
  };
  const load = async () => {
    const page = await api(
      `/api/github/backup/list?tenant=${encodeURIComponent(tenant)}&bucket=${encodeURIComponent(s.bucket)}&limit=${PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    retention ??= page.retention;
    for (const b of page.backups) {
      const when = Date.parse(b.created_at ?? b.stored_at ?? '');
      if (!Number.isNaN(when)) points.push({ time: when / 1000, size: b.size ?? null });
      const command = restoreCommand(tenant, s.bucket, b.backup_file);
      const copy = el(
        'button',
        {
          type: 'button',
          class: 'copy',
          onclick: () => navigator.clipboard.writeText(command).then(() => (copy.textContent = 'Copied')),
        },
        'Copy',
      );
      body.append(
        el(
          'tr',
          { 'data-backup': b.backup_file },
          el('td', {}, b.backup_file),
          el('td', {}, b.created_at ?? b.stored_at ?? ''),
          el('td', {}, b.branch),
          el('td', {}, el('code', {}, b.commit.slice(0, 12))),
          el('td', { class: 'num' }, bytes(b.size)),
          el('td', { class: 'record' }, b.verification ?? ''),
          el('td', {}, el('div', { class: 'restore' }, el('code', { class: 'command' }, command), copy)),
        ),
      );
    }
    cursor = page.cursor;
    more.hidden = !cursor;
    draw();
  };
  more.addEventListener('click', () => load().catch(show));
  await load();
  const recent = await api(
    `/api/github/backup/tenants/${encodeURIComponent(tenant)}/notifications?bucket=${encodeURIComponent(s.bucket)}&limit=20`,
  );
  const timeline = el(
    'ol',
    { id: 'timeline' },
    recent.notifications.map((n) =>
      el(
        'li',
        {},
        el('span', { class: 'muted' }, n.stored_at),
        ' ',
        badge(n.status),
        ` ${n.kind === 'drill' ? 'restore drill' : 'backup run'}`,
        n.backup_file ? ` of ${n.backup_file}` : '',
        n.message ? el('div', { class: 'muted' }, n.message) : null,
      ),
    ),
  );
  return el(
    'section',
    {},
    el('h2', {}, `Tenant ${tenant} `, badge(s.state)),
    el(
      'dl',
      { class: 'facts' },
      fact('Newest backup', s.newest ? `${s.newest.backup_file}, ${age(s.newest.age_hours)} ago` : 'none'),
      fact('Backups', s.backups),
      fact('Stored', bytes(s.bytes_stored)),
      fact('Per month', usd(s.monthly_storage_cost_usd)),
      fact('Last run', s.last_status ? `${s.last_status.status} at ${s.last_status.stored_at}` : 'none'),
      fact('Last drill', s.last_drill ? `${s.last_drill.status} at ${s.last_drill.stored_at}` : 'never'),
      fact('Stale after', `${s.stale_after_hours} h`),
      fact('Retention (RETENTION_POLICIES)', policyText(retention), 'retention-policy'),
      fact('Deletion lock (MIN_RETENTION_DAYS)', lockText(retention), 'retention-lock'),
    ),
    el('h3', {}, 'Archive size over time'),
    chart,
    el(
      'table',
      { id: 'backups' },
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          ...['Backup', 'Created', 'Branch', 'Commit', 'Size', 'Record', 'Restore'].map((h) =>
            el('th', {}, h),
          ),
        ),
      ),
      body,
    ),
    more,
    el('h3', {}, 'Notifications, newest first'),
    timeline,
  );
}

function show(error) {
  if (error instanceof Unauthorized) {
    sessionStorage.removeItem(TOKEN_KEY);
    $('login-error').textContent = error.message;
    return render();
  }
  $('view').replaceChildren(el('p', { class: 'error', role: 'alert' }, error.message));
}

async function render() {
  const signedIn = token() !== null;
  $('login').hidden = signedIn;
  $('sign-out').hidden = !signedIn;
  $('bucket-form').hidden = !signedIn;
  if (!signedIn) return $('view').replaceChildren();
  const match = /^#\/tenant\/([^?]+)/.exec(location.hash);
  try {
    $('view').replaceChildren(el('p', { class: 'muted' }, 'Loading…'));
    const view = match ? await tenantPage(decodeURIComponent(match[1])) : await overview();
    $('view').replaceChildren(view);
  } catch (error) {
    show(error);
  }
}

$('login').addEventListener('submit', (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $('token').value);
  $('token').value = '';
  $('login-error').textContent = '';
  render();
});
$('sign-out').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  location.hash = '#/';
  render();
});
$('bucket-form').addEventListener('submit', (event) => {
  event.preventDefault();
  location.hash = `#/?bucket=${encodeURIComponent($('bucket').value.trim())}`;
});
window.addEventListener('hashchange', render);
render();
