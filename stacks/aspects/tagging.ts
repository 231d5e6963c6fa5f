import { IConstruct } from 'constructs';
import { IAspect } from 'cdktf';

type Taggable = IConstruct & { tags?: Record<string, string>; tagsInput?: Record<string, string> };

function isTaggable(node: IConstruct): node is Taggable {
  return 'tags' in node && 'tagsInput' in node;
}

/**
 * Adds tags to every taggable resource. The provider's default_tags already cover AWS resources;
 * this aspect additionally stamps the owning stack, so a resource found in the console names the
 * Terraform state that manages it. Explicit tags on a resource win.
 */
export class TaggingAspect implements IAspect {
  constructor(private readonly tags: Record<string, string>) {}

  visit(node: IConstruct): void {
    if (!isTaggable(node)) return;
    node.tags = { ...this.tags, ...(node.tagsInput ?? {}) };
  }
}
