import type { SavedFile } from '../../api';

/**
 * Hands a file the server sent to the browser to save, under the name the server gave it. The
 * object URL lives only as long as the click needs it.
 */
export function saveFile({ blob, fileName }: SavedFile): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 0);
}
