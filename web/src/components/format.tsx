import type { CSSProperties, ReactNode } from 'react';

/** Colour-blind-safe (Okabe-Ito), dark enough on white for a line's contrast. */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#56B4E9', '#E69F00', '#000000', '#7f7f7f'];

/** A figure the API withheld: shown as such, never as 0 and never left out. */
export function Withheld() {
  return <span className="badge">suppressed</span>;
}

/**
 * A table that scrolls on its own, reachable by keyboard; named "… (table)" so it never shares
 * its name with the section whose heading says the same.
 */
export function TableRegion({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="table-scroll" tabIndex={0} role="region" aria-label={`${label} (table)`}>
      {children}
    </div>
  );
}

export const percent = (share: number): string => share.toLocaleString('en', { style: 'percent', maximumFractionDigits: 1 });
export const decimal = (value: number, digits = 2): string => value.toLocaleString('en', { maximumFractionDigits: digits });

const SHADE = [0, 114, 178] as const;
const linear = (channel: number) => (channel <= 0.04045 ? channel / 12.92 : ((channel + 0.055) / 1.055) ** 2.4);

/**
 * A heat-map cell's colours for a share in [0, 1]: the palette's blue over white, and whichever
 * of black or white text contrasts more with it (at worst 4.6:1, where the two cross).
 */
export function shade(share: number): CSSProperties {
  const alpha = 0.08 + 0.92 * Math.min(1, Math.max(0, share));
  const [red, green, blue] = SHADE.map((channel) => Math.round(255 + (channel - 255) * alpha)) as [number, number, number];
  const luminance = 0.2126 * linear(red / 255) + 0.7152 * linear(green / 255) + 0.0722 * linear(blue / 255);
  const whiteText = 1.05 / (luminance + 0.05) > (luminance + 0.05) / 0.05;
  return { background: `rgb(${red}, ${green}, ${blue})`, color: whiteText ? '#fff' : '#000' };
}

/** A table's column headings, each a header of its column for assistive technology. */
export function ColumnHeads({ names }: { names: readonly string[] }) {
  return (
    <thead>
      <tr>
        {names.map((name) => (
          <th key={name} scope="col">
            {name}
          </th>
        ))}
      </tr>
    </thead>
  );
}
