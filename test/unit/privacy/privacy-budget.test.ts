import { canSpend, remainingBudget } from '../../../functions/domain/privacy/noise/privacy-budget';

describe('a dataset’s privacy budget under sequential composition', () => {
  const budget = { epsilon: 1, delta: 1e-5 };

  it('adds up past spends and leaves the rest', () => {
    const spent = [
      { epsilon: 0.25, delta: 0 },
      { epsilon: 0.5, delta: 4e-6 },
    ];
    expect(remainingBudget(budget, spent)).toEqual({ epsilon: 0.25, delta: 6e-6 });
    expect(canSpend(budget, spent, { epsilon: 0.25, delta: 6e-6 })).toEqual({ ok: true, remainingAfter: { epsilon: 0, delta: 0 } });
  });

  it('refuses a spend that would overspend ε or δ, telling what is left', () => {
    const spent = [{ epsilon: 0.75, delta: 5e-6 }];
    expect(canSpend(budget, spent, { epsilon: 0.3, delta: 0 })).toEqual({
      ok: false,
      reason: 'privacy_budget_exhausted',
      remaining: { epsilon: 0.25, delta: 5e-6 },
    });
    expect(canSpend(budget, spent, { epsilon: 0.1, delta: 6e-6 })).toMatchObject({ ok: false, reason: 'privacy_budget_exhausted' });
    expect(canSpend(budget, spent, { epsilon: 0.25, delta: 5e-6 })).toMatchObject({ ok: true });
  });

  it('counts exactly, ε read as the decimal written: ten spends of 0.1 fill a budget of 1, and 0.1 + 0.2 fills 0.3', () => {
    const tenth = { epsilon: 0.1, delta: 0 };
    const nine = Array.from({ length: 9 }, () => tenth);
    // As doubles the ten would sum to 0.9999999999999999 (a float sum) or a little over 1 (exactly).
    expect(canSpend({ epsilon: 1, delta: 0 }, nine, tenth)).toEqual({ ok: true, remainingAfter: { epsilon: 0, delta: 0 } });
    expect(canSpend({ epsilon: 1, delta: 0 }, [...nine, tenth], { epsilon: 1e-9, delta: 0 })).toMatchObject({
      ok: false,
      reason: 'privacy_budget_exhausted',
    });
    expect(canSpend({ epsilon: 0.3, delta: 0 }, [tenth], { epsilon: 0.2, delta: 0 })).toEqual({ ok: true, remainingAfter: { epsilon: 0, delta: 0 } });
    expect(canSpend({ epsilon: 0.3, delta: 0 }, [tenth], { epsilon: 0.2000000000000001, delta: 0 })).toMatchObject({ ok: false });
  });

  it('reports a remaining budget never above the exact one', () => {
    const left = remainingBudget({ epsilon: 1, delta: 0 }, [{ epsilon: 1 / 3, delta: 0 }]);
    expect(canSpend({ epsilon: 1, delta: 0 }, [{ epsilon: 1 / 3, delta: 0 }], left)).toMatchObject({ ok: true });
  });

  it('leaves nothing, not a debt, once the ledger is over a lowered budget', () => {
    expect(remainingBudget({ epsilon: 0.5, delta: 0 }, [{ epsilon: 0.75, delta: 0 }])).toEqual({ epsilon: 0, delta: 0 });
  });

  it('answers invalid_spend to a request that is no cost', () => {
    for (const request of [
      { epsilon: 0, delta: 0 },
      { epsilon: -0.1, delta: 0 },
      { epsilon: Number.NaN, delta: 0 },
      { epsilon: Number.POSITIVE_INFINITY, delta: 0 },
      { epsilon: 0.1, delta: -1e-9 },
      { epsilon: 0.1, delta: 1 },
      { epsilon: 0.1, delta: Number.NaN },
    ]) {
      expect(canSpend(budget, [], request)).toMatchObject({ ok: false, reason: 'invalid_spend' });
    }
  });

  it('throws on a bad budget or ledger entry, which is a fault of ours, not the requester’s', () => {
    expect(() => remainingBudget({ epsilon: 0, delta: 0 }, [])).toThrow(RangeError);
    expect(() => remainingBudget({ epsilon: 1, delta: 1 }, [])).toThrow(RangeError);
    expect(() => canSpend(budget, [{ epsilon: Number.NaN, delta: 0 }], { epsilon: 0.1, delta: 0 })).toThrow(RangeError);
  });
});
