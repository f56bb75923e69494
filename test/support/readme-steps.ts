/**
 * The steps of a README section, as a reader follows them: each `sh` block is a step, the `text`
 * block after it is what the step prints, with `...` standing for anything (as in Python's
 * doctest ELLIPSIS). An HTML comment `<!-- setup-test: DIRECTIVE -->` just before a block, which
 * a reader never sees, says how a test plays it: `skip`, `background` (a server the next steps
 * talk to) or `stop-runtime` (the reader stops that server first).
 */

export type StepDirective = 'run' | 'skip' | 'background' | 'stop-runtime';

export interface ReadmeStep {
  readonly command: string;
  readonly expected?: string;
  readonly directive: StepDirective;
  /** 1-based line of the block in the README, for failure messages. */
  readonly line: number;
}

const DIRECTIVES: readonly StepDirective[] = ['skip', 'background', 'stop-runtime'];

/** The lines of `## heading` up to the next heading of the same level. */
export function sectionOf(markdown: string, heading: string): { readonly text: string; readonly firstLine: number } {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => line.trim() === `## ${heading}`);
  if (start < 0) throw new Error(`no "## ${heading}" section`);
  const end = lines.findIndex((line, index) => index > start && line.startsWith('## '));
  return { text: lines.slice(start, end < 0 ? undefined : end).join('\n'), firstLine: start + 1 };
}

export function readmeSteps(section: { readonly text: string; readonly firstLine: number }): ReadmeStep[] {
  const lines = section.text.split('\n');
  const steps: { command: string; expected?: string; directive: StepDirective; line: number }[] = [];
  let directive: StepDirective = 'run';
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index] as string;
    const comment = /^<!--\s*setup-test:\s*([\w-]+)/.exec(line.trim());
    if (comment) {
      const named = comment[1] as StepDirective;
      if (!DIRECTIVES.includes(named)) throw new Error(`line ${section.firstLine + index}: unknown setup-test directive "${named}"`);
      directive = named;
      continue;
    }
    const fence = /^```(\w*)\s*$/.exec(line);
    if (!fence) continue;
    const close = lines.findIndex((candidate, at) => at > index && candidate.startsWith('```'));
    if (close < 0) throw new Error(`line ${section.firstLine + index}: unclosed code block`);
    const body = lines.slice(index + 1, close).join('\n');
    if (fence[1] === 'sh') {
      steps.push({ command: body, directive, line: section.firstLine + index });
      directive = 'run';
    } else if (fence[1] === 'text') {
      const step = steps[steps.length - 1];
      if (!step || step.expected !== undefined) throw new Error(`line ${section.firstLine + index}: output block without a command before it`);
      step.expected = body;
    }
    index = close;
  }
  return steps;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether `output` is what `expected` shows: `...` matches anything, runs of white space any white space. */
export function matchesExpected(output: string, expected: string): boolean {
  const pattern = expected
    .trim()
    .split('...')
    .map((piece) => piece.split(/\s+/).map(escapeRegExp).join('\\s+'))
    .join('[\\s\\S]*?');
  return new RegExp(`^\\s*${pattern}\\s*$`).test(output);
}
