# Prints the held-out model ids: python3 data/eval/select.py <public labels.jsonl>
import json, random, sys
ms=json.load(open('node_modules/all-the-public-replicate-models/models.json'))
labs={json.loads(l)['id'] for l in open(sys.argv[1])}
ms.sort(key=lambda m:(-(m.get('run_count') or 0), m['owner']+'/'+m['name']))
ids=[m['owner']+'/'+m['name'] for m in ms]
head=[i for i in ids[:560] if i not in labs]   # most-run models, labelled ones removed
pick=head[::7]
rest=[i for i in ids[560:] if i not in labs]
rng=random.Random(20250101)
pick+=rng.sample(rest,120-len(pick))
print('\n'.join(pick))
