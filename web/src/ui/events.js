// Subscribe to a DOM target or to the Device (whose on() may or may not return an unsubscribe)
// and get back one function that undoes it, so each screen can clean up when it is left.
export function on(target, event, fn) {
  if (typeof target.on === 'function') {
    const r = target.on(event, fn);
    if (typeof r === 'function') return r;
    return () => (target.off ? target.off(event, fn) : target.removeListener?.(event, fn));
  }
  target.addEventListener(event, fn);
  return () => target.removeEventListener(event, fn);
}
