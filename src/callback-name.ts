/**
 * What a callback name may be. The name appears in Info's `key=value` text,
 * so it is non-empty and holds no whitespace and no "=". Shared by the core
 * (HttpListener's callbackName) and the facade (callback(), Open).
 */

export function isCallbackName(name: string): boolean {
  return name.length > 0 && !/[\s=]/.test(name);
}

/** The name a listener shows for a callback given as a function: its own name when that is a valid one. */
export function nameOfFunction(fn: { readonly name: string }): string {
  return isCallbackName(fn.name) ? fn.name : "anonymous";
}
