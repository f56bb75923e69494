import { useEffect, useRef } from 'react';
import { createParser } from 'eventsource-parser';
import { useSession } from './session';

export interface LiveCounters {
  minute: string;
  events_per_min: number;
  /** Absent when fewer than k people were active: withheld, not zero. */
  active_users?: number;
  avg_ingest_ms: number;
  updated_at: string;
}

export interface LiveAlert {
  kind: string;
  severity: string;
  alertIds: string[];
}

export type LiveEvent = { type: 'counters'; data: LiveCounters } | { type: 'alert'; data: LiveAlert } | { type: 'status'; data: 'open' | 'reconnecting' | 'unavailable' };

const RECONNECT_MS = { first: 1_000, max: 30_000 };

/**
 * GET /v1/live as server-sent events, read with fetch (EventSource cannot send a bearer token).
 * Reconnects after a dropped stream, waiting longer each time; each event reaches `onEvent`.
 */
export function useLive(onEvent: (event: LiveEvent) => void): void {
  const { token } = useSession();
  const handler = useRef(onEvent);
  handler.current = onEvent;
  useEffect(() => {
    const abort = new AbortController();
    let wait = RECONNECT_MS.first;
    const parser = createParser({
      onEvent: (message) => {
        if (message.event === 'counters') handler.current({ type: 'counters', data: JSON.parse(message.data) as LiveCounters });
        else if (message.event === 'alert') handler.current({ type: 'alert', data: JSON.parse(message.data) as LiveAlert });
      },
    });
    const connect = async () => {
      while (!abort.signal.aborted) {
        try {
          // In AWS, CloudFront signs its request to the stream's function URL in Authorization,
          // overwriting ours: the token travels in x-bearer-token as well (functions/handlers/live.ts).
          const response = await fetch('/v1/live', { headers: { authorization: `Bearer ${token}`, 'x-bearer-token': token, accept: 'text/event-stream' }, signal: abort.signal });
          // Served by the local runtime and, in AWS, by a streaming function behind CloudFront; where it is not, the views work without it.
          if (response.status === 404) return handler.current({ type: 'status', data: 'unavailable' });
          if (!response.ok || !response.body) throw new Error(`live stream answered ${response.status}`);
          handler.current({ type: 'status', data: 'open' });
          wait = RECONNECT_MS.first;
          parser.reset();
          const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            parser.feed(value);
          }
        } catch {
          if (abort.signal.aborted) return;
        }
        handler.current({ type: 'status', data: 'reconnecting' });
        await new Promise((resolve) => setTimeout(resolve, wait));
        wait = Math.min(RECONNECT_MS.max, wait * 2);
      }
    };
    void connect();
    return () => abort.abort();
  }, [token]);
}
