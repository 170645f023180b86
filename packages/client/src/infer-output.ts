/** @module infer-output: an output to ask `infer` for, as tritonclient's InferRequestedOutput. */

export interface OutputJson {
  name: string;
  parameters: Record<string, unknown>;
}

export class InferRequestedOutput {
  readonly name: string;
  readonly binary: boolean;
  readonly classCount: number | undefined;

  /** `binary: false` asks for the output as JSON; `classCount` asks for Triton's classification extension's top-N. */
  constructor(name: string, options: { binary?: boolean; classCount?: number } = {}) {
    this.name = name;
    this.binary = options.binary ?? true;
    this.classCount = options.classCount;
  }

  toJSON(): OutputJson {
    const parameters: Record<string, unknown> = { binary_data: this.binary };
    if (this.classCount) parameters.classification = this.classCount;
    return { name: this.name, parameters };
  }
}
