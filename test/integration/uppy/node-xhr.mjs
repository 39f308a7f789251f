/**
 * Just enough of XMLHttpRequest, on top of fetch, for Uppy's `fetcher` to run in Node: open,
 * setRequestHeader, send, abort, status, getResponseHeader, responseText, onload/onerror and
 * upload.onprogress (one event once the body is sent; Node's fetch reports no upload progress).
 */
export class NodeXMLHttpRequest {
  readyState = 0;
  status = 0;
  statusText = '';
  responseText = '';
  response = '';
  responseType = '';
  withCredentials = false;
  timeout = 0;
  onload = null;
  onerror = null;
  onabort = null;
  upload = {
    onprogress: null,
    addEventListener: (type, fn) => {
      if (type === 'progress') this.upload.onprogress = fn;
    },
  };
  #method = 'GET';
  #url = '';
  #headers = {};
  #responseHeaders = new Headers();
  #controller = new AbortController();

  open(method, url) {
    this.#method = method;
    this.#url = url;
    this.readyState = 1;
  }

  setRequestHeader(name, value) {
    this.#headers[name] = value;
  }

  getResponseHeader(name) {
    return this.#responseHeaders.get(name);
  }

  getAllResponseHeaders() {
    const lines = [];
    this.#responseHeaders.forEach((v, k) => lines.push(`${k}: ${v}`));
    return lines.join('\r\n');
  }

  abort() {
    this.#controller.abort();
    this.onabort?.();
  }

  send(body) {
    const size = body instanceof Blob ? body.size : typeof body === 'string' ? Buffer.byteLength(body) : (body?.byteLength ?? 0);
    fetch(this.#url, { method: this.#method, headers: this.#headers, body: body ?? null, signal: this.#controller.signal })
      .then(async (res) => {
        this.upload.onprogress?.({ lengthComputable: true, loaded: size, total: size });
        this.status = res.status;
        this.statusText = res.statusText;
        this.#responseHeaders = res.headers;
        this.responseText = await res.text();
        this.response = this.responseText;
        this.readyState = 4;
        this.onload?.();
      })
      .catch(() => {
        if (this.#controller.signal.aborted) return;
        this.readyState = 4;
        this.onerror?.();
      });
  }
}
