import type { FeatureState } from '../domain/behaviour/features';

/**
 * Every user's feature row, a page at a time (the models never hold all rows' JSON at once),
 * each with an opaque key: the subject hash, never the pseudonym.
 */
export interface FeatureRows {
  pages(pageSize: number): AsyncIterable<readonly (readonly [string, FeatureState])[]>;
}
