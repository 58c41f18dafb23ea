/**
 * Content negotiation: kubectl asks for `application/json;as=Table;v=v1;g=meta.k8s.io` first
 * (then v1beta1, then plain JSON). Protobuf is never served: JSON is always acceptable to
 * kubectl and client-go, so anything else gets JSON.
 */

export type ResponseForm =
  | { as: 'object' }
  | { as: 'Table'; apiVersion: 'meta.k8s.io/v1' | 'meta.k8s.io/v1beta1' }
  | { as: 'PartialObjectMetadata'; apiVersion: 'meta.k8s.io/v1' | 'meta.k8s.io/v1beta1' };

interface MediaRange {
  type: string;
  params: Record<string, string>;
}

function parseAccept(header: string): MediaRange[] {
  return header
    .split(',')
    .map((part) => {
      const [type = '', ...paramTexts] = part.split(';').map((s) => s.trim());
      const params: Record<string, string> = {};
      for (const p of paramTexts) {
        const eq = p.indexOf('=');
        if (eq > 0) params[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim().replace(/^"|"$/g, '');
      }
      return { type: type.toLowerCase(), params };
    })
    .filter((m) => m.type !== '');
}

/** The first transformation the client accepts, in its order; plain objects otherwise. */
export function responseForm(accept: string | undefined): ResponseForm {
  for (const media of parseAccept(accept ?? '')) {
    const { as, g, v } = media.params;
    if (as === undefined) {
      if (media.type === 'application/json' || media.type === '*/*' || media.type === 'application/*') return { as: 'object' };
      continue;
    }
    if (g !== 'meta.k8s.io' || (v !== 'v1' && v !== 'v1beta1')) continue;
    const apiVersion = v === 'v1' ? 'meta.k8s.io/v1' : 'meta.k8s.io/v1beta1';
    if (as === 'Table') return { as: 'Table', apiVersion };
    if (as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') return { as: 'PartialObjectMetadata', apiVersion };
  }
  return { as: 'object' };
}

/** The media type of a request body, lower case, without parameters. */
export function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}
