// Dark / light theme: follows the system (prefers-color-scheme) until the user
// picks one with the toggle; the pick is remembered in localStorage.
// <html data-theme="dark|light"> is what the CSS keys on.

export type Theme = 'dark' | 'light';

const kStorage = 'jarvis.theme';
const media = window.matchMedia('(prefers-color-scheme: dark)');

function stored(): Theme | null {
  try {
    const v = localStorage.getItem(kStorage);
    return v === 'dark' || v === 'light' ? v : null;
  } catch {
    return null;
  }
}

export function currentTheme(): Theme {
  return stored() ?? (media.matches ? 'dark' : 'light');
}

function apply(): void {
  document.documentElement.dataset.theme = currentTheme();
}

/** Applies the theme now; `changed` runs after every later change (toggle or system switch). */
export function initTheme(button: HTMLButtonElement, changed: () => void): void {
  apply();
  const label = () => {
    const next = currentTheme() === 'dark' ? 'light' : 'dark';
    button.title = `Switch to the ${next} theme`;
    button.setAttribute('aria-label', button.title);
  };
  label();
  button.addEventListener('click', () => {
    const next: Theme = currentTheme() === 'dark' ? 'light' : 'dark';
    try {
      localStorage.setItem(kStorage, next);
    } catch {
      // storage disabled: applies to this page only
      document.documentElement.dataset.theme = next;
      label();
      changed();
      return;
    }
    apply();
    label();
    changed();
  });
  media.addEventListener('change', () => {
    if (stored()) return;
    apply();
    label();
    changed();
  });
}
