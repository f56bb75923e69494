// The package ships no types: these are the parts of its API the outcome model uses.
declare module 'ml-logistic-regression' {
  import type { Matrix } from 'ml-matrix';

  interface TwoClassClassifier {
    testScores(features: Matrix): number[];
  }

  export interface LogisticRegressionJson {
    readonly name: 'LogisticRegression';
    readonly numSteps: number;
    readonly learningRate: number;
    readonly numberClasses: number;
    readonly classifiers: readonly unknown[];
  }

  export default class LogisticRegression {
    constructor(options?: { numSteps?: number; learningRate?: number });
    /** One classifier per class, one against all: classifiers[c] scores "not class c". */
    readonly classifiers: TwoClassClassifier[];
    train(features: Matrix, classes: Matrix): void;
    toJSON(): LogisticRegressionJson;
    static load(model: LogisticRegressionJson): LogisticRegression;
  }
}
