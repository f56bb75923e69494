import { cellText, type ReportFormat, type ReportKind } from './document';
import type { ReportPeriodBounds } from './schedule';

/*
 * The e-mails a schedule's recipients get (issue 17): a link to the report, never the report
 * itself (a forwarded attachment outlives every access rule; a link expires and its reads are
 * logged), or a short notice that this period's report could not be made. Neither holds a figure.
 */

export interface MailText {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

const KIND_TITLES: Record<ReportKind, string> = {
  outcomes: 'Therapeutic outcomes report',
  operations: 'Operational report',
  research: 'Research report',
};

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);

/** A wall-clock time in the reader's zone, with the zone named: "2027-03-29 08:00 (Europe/London)". */
const localTime = (iso: string, timeZone: string) => `${cellText(iso, 'datetime', timeZone)} (${timeZone})`;

export interface ReportLinkMail {
  readonly kind: ReportKind;
  readonly period: ReportPeriodBounds;
  readonly dataThrough: string | null;
  readonly links: readonly { readonly format: ReportFormat; readonly url: string; readonly expiresAt: string }[];
  /** A schedule's test send, marked as such so no one acts on it as the period's report. */
  readonly test: boolean;
}

/** The mail with a made report's links, and the newest data it covers. */
export function reportLinkMail(mail: ReportLinkMail): MailText {
  const title = `${KIND_TITLES[mail.kind]} ${mail.period.label}`;
  const subject = `${mail.test ? '[TEST] ' : ''}${title}`;
  const through = mail.dataThrough === null ? 'It covers no data: none had arrived for the period.' : `It covers data up to ${localTime(mail.dataThrough, mail.period.timeZone)}.`;
  const expiry = mail.links[0] ? `The links expire at ${localTime(mail.links[0].expiresAt, mail.period.timeZone)}; after that, download the report from the product (GET /v1/reports).` : '';
  const lead = `${mail.test ? 'This is a test send of a report schedule. ' : ''}The ${title} is ready.`;
  const text = [lead, through, ...mail.links.map((link) => `${link.format.toUpperCase()}: ${link.url}`), expiry].filter((line) => line.length > 0).join('\n\n');
  const html = [
    `<p>${escapeHtml(lead)}</p>`,
    `<p>${escapeHtml(through)}</p>`,
    `<ul>${mail.links.map((link) => `<li><a href="${escapeHtml(link.url)}">${link.format.toUpperCase()}</a></li>`).join('')}</ul>`,
    expiry ? `<p>${escapeHtml(expiry)}</p>` : '',
  ].join('');
  return { subject, text, html };
}

/** The short notice that a period's report could not be made: the owners have an alert with the reason. */
export function reportFailedMail(mail: { readonly kind: ReportKind; readonly period: ReportPeriodBounds; readonly test: boolean }): MailText {
  const title = `${KIND_TITLES[mail.kind]} ${mail.period.label}`;
  const text = `${mail.test ? 'This is a test send of a report schedule. ' : ''}The ${title} could not be made this time. The team that runs the product has been alerted and will send it when it is fixed; there is nothing for you to do.`;
  return { subject: `${mail.test ? '[TEST] ' : ''}${title}: not available`, text, html: `<p>${escapeHtml(text)}</p>` };
}
