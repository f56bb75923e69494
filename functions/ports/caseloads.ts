/** Which users each clinician looks after, by subject key (`user:<pseudonym>`). */
export interface CaseloadStore {
  /** Replaces the clinician's caseload with these subject keys; answers how many it holds. */
  replace(clinicianId: string, subjects: readonly string[], at: Date): Promise<number>;
}
