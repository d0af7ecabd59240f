// Calls to Aviary's API through the console's proxy (`/api/…`) and uploads through its relay.

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.name = (body && body.error) || `HTTP ${status}`;
    this.fields = (body && body.fields) || [];
    this.body = body;
  }
}

/** `api('GET', '/deployments')` → parsed JSON; throws ApiError with the API's error body. */
export async function api(method, path, body, headers = {}) {
  const init = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch('/api' + path, init);
  } catch (e) {
    throw new ApiError(0, { error: 'NetworkError', message: `the console did not answer: ${e.message}` });
  }
  const text = await resp.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = { error: `HTTP ${resp.status}`, message: text.slice(0, 500) }; }
  if (!resp.ok) throw new ApiError(resp.status, json);
  return json;
}

/** PUTs a file to a presigned URL (through the console's relay); onProgress(0..1). */
export function upload(url, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', '/upload');
    xhr.setRequestHeader('x-upload-url', url);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) { onProgress(1); resolve(); return; }
      let body;
      try { body = JSON.parse(xhr.responseText); } catch { body = { error: 'UploadFailed', message: xhr.responseText.slice(0, 500) || `HTTP ${xhr.status}` }; }
      reject(new ApiError(xhr.status, body));
    };
    xhr.onerror = () => reject(new ApiError(0, { error: 'NetworkError', message: 'the upload was interrupted' }));
    xhr.send(file);
  });
}
