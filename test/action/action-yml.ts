// The inputs and outputs of action.yml, read without a YAML library (the file keeps to one
// simple shape: two-space names, four-space `description:` and `default:` on one line each).
export interface ActionEntry {
  name: string;
  description: string;
  default?: string;
}

/** A one-line YAML scalar: plain, 'single' ('' escapes ') or "double" (JSON-like escapes). */
function scalar(text: string): string {
  if (text.startsWith("'") && text.endsWith("'")) return text.slice(1, -1).replace(/''/g, "'");
  if (text.startsWith('"') && text.endsWith('"')) return JSON.parse(text) as string;
  return text;
}

export function actionEntries(yml: string, section: 'inputs' | 'outputs'): ActionEntry[] {
  const lines = yml.split('\n');
  const start = lines.indexOf(`${section}:`);
  if (start < 0) return [];
  const entries: ActionEntry[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^\S/.test(line)) break;
    const name = /^ {2}([a-z0-9-]+):\s*$/.exec(line);
    if (name) entries.push({ name: name[1]!, description: '' });
    const field = /^ {4}(description|default): (.*)$/.exec(line);
    if (field && entries.length > 0)
      entries[entries.length - 1]![field[1] as 'description' | 'default'] = scalar(field[2]!);
  }
  return entries;
}

/** The Markdown tables of the README, made from action.yml. */
export function markdownTables(yml: string): { inputs: string; outputs: string } {
  const code = (text: string): string => `\`${text}\``;
  const inputs = actionEntries(yml, 'inputs').map(
    (e) => `| ${code(e.name)} | ${e.description} | ${e.default ? code(e.default) : ''} |`,
  );
  const outputs = actionEntries(yml, 'outputs').map((e) => `| ${code(e.name)} | ${e.description} |`);
  return {
    inputs: ['| input | description | default |', '| --- | --- | --- |', ...inputs].join('\n'),
    outputs: ['| output | description |', '| --- | --- |', ...outputs].join('\n'),
  };
}
