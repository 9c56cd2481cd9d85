'use strict'
// The JS half of the one error conversion (the Rust half is src/errors.rs): every error that
// leaves the native module becomes a `MarqueError` with a stable `code`.

/** @param {string[]} codes */
function makeErrors(codes) {
  const CODES = Object.freeze(codes.slice())
  const known = new Set(CODES)

  class MarqueError extends Error {
    constructor(code, message, options) {
      super(message, options)
      this.code = known.has(code) ? code : 'internal'
    }
  }
  Object.defineProperty(MarqueError.prototype, 'name', { value: 'MarqueError', writable: true, configurable: true })

  // Native errors are already real `Error`s (with a stack) carrying the marque code; they only
  // get the `MarqueError` prototype. Errors napi raised while converting arguments (wrong JS
  // types: `StringExpected`, `InvalidArg`, …) become `invalid_argument`, keeping napi's status
  // in `napiStatus` for debugging.
  function toMarqueError(e) {
    if (e instanceof MarqueError) return e
    if (e instanceof Error) {
      const code = known.has(e.code) ? e.code : 'invalid_argument'
      if (code !== e.code && e.code !== undefined) {
        Object.defineProperty(e, 'napiStatus', { value: e.code, enumerable: false, configurable: true, writable: true })
      }
      Object.setPrototypeOf(e, MarqueError.prototype)
      e.code = code
      if (typeof e.stack === 'string' && e.stack.startsWith('Error: ')) {
        e.stack = `MarqueError [${code}]: ` + e.stack.slice('Error: '.length)
      }
      return e
    }
    return new MarqueError('internal', `non-Error value thrown: ${String(e)}`)
  }

  function guard(fn, name, self) {
    if (name.endsWith('Async')) {
      return {
        [name](...args) {
          try {
            return Promise.resolve(fn.apply(self ?? this, args)).catch((e) => {
              throw toMarqueError(e)
            })
          } catch (e) {
            return Promise.reject(toMarqueError(e))
          }
        },
      }[name]
    }
    return {
      [name](...args) {
        try {
          return fn.apply(self ?? this, args)
        } catch (e) {
          throw toMarqueError(e)
        }
      },
    }[name]
  }

  // A native class: prototype methods and getters are wrapped in place; the exported
  // constructor is a plain function sharing the native prototype, so `instanceof` holds for
  // instances created in Rust, and static factories are wrapped.
  function wrapClass(Native) {
    const proto = Native.prototype
    for (const [key, d] of Object.entries(Object.getOwnPropertyDescriptors(proto))) {
      if (key === 'constructor' || !d.configurable) continue
      if (typeof d.value === 'function') {
        Object.defineProperty(proto, key, { ...d, value: guard(d.value, key) })
      } else if (typeof d.get === 'function') {
        Object.defineProperty(proto, key, { ...d, get: guard(d.get, key) })
      }
    }
    const Wrapped = {
      [Native.name]: function (...args) {
        if (!new.target) throw new MarqueError('invalid_argument', `Class constructor ${Native.name} cannot be invoked without 'new'`)
        try {
          return Reflect.construct(Native, args, Native)
        } catch (e) {
          throw toMarqueError(e)
        }
      },
    }[Native.name]
    Wrapped.prototype = proto
    Object.defineProperty(proto, 'constructor', { value: Wrapped, writable: true, configurable: true, enumerable: false })
    for (const key of Object.getOwnPropertyNames(Native)) {
      if (['length', 'name', 'prototype', 'arguments', 'caller'].includes(key)) continue
      const v = Native[key]
      Object.defineProperty(Wrapped, key, {
        value: typeof v === 'function' ? guard(v, key, Native) : v,
        enumerable: true,
      })
    }
    return Wrapped
  }

  function wrapModule(native, classNames) {
    const out = {}
    for (const [key, value] of Object.entries(native)) {
      if (classNames.includes(key)) out[key] = wrapClass(value)
      else if (typeof value === 'function') out[key] = guard(value, key)
      else out[key] = value
    }
    return out
  }

  return { MarqueError, ERROR_CODES: CODES, toMarqueError, wrapModule }
}

module.exports = { makeErrors }
