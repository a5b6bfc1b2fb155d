/** The option type for a Java regex in a component's option table. */
import { opt, type OptionSpec } from '../../../contract/index.js';
import { compileJavaRegex } from './regex.js';

/** A string option holding a Java regex, checked (translated and compiled) when the config is validated. */
export function javaRegexOption(
  o:
    | { doc: string; default: string; defaultText?: string; nonEmpty?: boolean }
    | { doc: string; required: true; nonEmpty?: boolean },
): OptionSpec<string>;
export function javaRegexOption(o: {
  doc: string;
  defaultText?: string;
  nonEmpty?: boolean;
}): OptionSpec<string | undefined>;
export function javaRegexOption(o: {
  doc: string;
  default?: string;
  required?: boolean;
  defaultText?: string;
  nonEmpty?: boolean;
}): OptionSpec<any> {
  const base = opt.string(o) as OptionSpec<any>;
  return {
    ...base,
    typeText: 'Java regex',
    parse: (raw: string) => {
      const v = base.parse(raw) as string;
      compileJavaRegex(v);
      return v;
    },
  };
}
