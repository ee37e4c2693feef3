/**
 * Runtime payload validation through the Standard Schema interface (`~standard.validate`),
 * which zod, valibot, arktype and others implement: no dependency on any of them. A failed
 * validation becomes INVALID_PAYLOAD before a handler sees the payload.
 * Must not: import a schema library.
 */

export interface StandardIssue {
  readonly message: string;
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }>;
}

export type StandardResult<Output> = { readonly value: Output; readonly issues?: undefined } | { readonly issues: ReadonlyArray<StandardIssue> };

export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>;
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}

/** The validated (possibly transformed) value, or the issues as one readable line. */
export async function validateWith(schema: StandardSchemaV1, value: unknown): Promise<{ ok: true; value: unknown } | { ok: false; message: string }> {
  let result: StandardResult<unknown>;
  try {
    result = await schema['~standard'].validate(value);
  } catch {
    return { ok: false, message: 'the schema failed to run' };
  }
  if (!result.issues) return { ok: true, value: result.value };
  const message = result.issues
    .slice(0, 10)
    .map((issue) => {
      const path = issue.path?.map((p) => String(typeof p === 'object' ? p.key : p)).join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
  return { ok: false, message: message || 'invalid payload' };
}
