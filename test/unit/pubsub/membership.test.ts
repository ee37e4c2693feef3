import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Membership } from '../../../src/pubsub/membership.js';

describe('Membership', () => {
  it('keeps topic -> subscribers and subscriber -> topics in step', () => {
    const members = new Membership<string>();
    assert.equal(members.add('a', 'x'), true);
    assert.equal(members.add('a', 'x'), false);
    members.add('a', 'y');
    members.add('b', 'x');
    assert.deepEqual([...members.subscribersOf('x')!], ['a', 'b']);
    assert.deepEqual([...members.topicsOf('a')], ['x', 'y']);
    assert.equal(members.has('b', 'y'), false);
    assert.equal(members.remove('a', 'x'), true);
    assert.equal(members.remove('a', 'x'), false);
    assert.deepEqual([...members.subscribersOf('x')!], ['b']);
    assert.deepEqual([...members.topicsOf('a')], ['y']);
  });

  it('drops a topic with its last subscriber and a subscriber with its last topic', () => {
    const members = new Membership<string>();
    members.add('a', 'x');
    members.remove('a', 'x');
    assert.equal(members.subscribersOf('x'), undefined);
    assert.equal(members.count('x'), 0);
    assert.deepEqual([...members.topicsOf('a')], []);
    assert.deepEqual([...members.topics()], []);
  });

  it('removes a subscriber from every topic at once and says which it left', () => {
    const members = new Membership<string>();
    members.add('a', 'x');
    members.add('a', 'y');
    members.add('b', 'y');
    assert.deepEqual(members.removeAll('a'), ['x', 'y']);
    assert.deepEqual([...members.topics()], ['y']);
    assert.deepEqual(members.removeAll('a'), []);
  });

  it('goes from one topic to several and back without losing any', () => {
    const members = new Membership<string>();
    members.add('a', 'x');
    assert.equal(members.has('a', 'x'), true);
    assert.equal(members.has('a', 'y'), false);
    members.add('a', 'y');
    members.add('a', 'z');
    assert.deepEqual([...members.topicsOf('a')], ['x', 'y', 'z']);
    members.remove('a', 'x');
    members.remove('a', 'z');
    assert.deepEqual([...members.topicsOf('a')], ['y']);
    assert.equal(members.has('a', 'y'), true);
    assert.equal(members.has('a', 'x'), false);
    members.add('a', 'w');
    assert.deepEqual(members.removeAll('a'), ['y', 'w']);
    assert.deepEqual([...members.topics()], []);
  });

  it('hands out a copy of a subscriber\'s topics that later changes do not touch', () => {
    const members = new Membership<string>();
    members.add('a', 'x');
    const copy = members.topicsOf('a');
    members.add('a', 'y');
    members.remove('a', 'x');
    assert.deepEqual([...copy], ['x']);
    assert.deepEqual([...members.topicsOf('a')], ['y']);
  });
});
