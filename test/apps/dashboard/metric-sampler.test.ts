/**
 * The dashboard's series (apps/dashboard/metric-sampler.ts): forty of them with unique ids,
 * each read once per sample as a finite number, the real ones within their ranges.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { MetricSampler, SENSOR_COUNT } from '../../../apps/dashboard/metric-sampler.js';

it('lists process, machine and synthetic series with unique ids', () => {
  const sampler = new MetricSampler();
  try {
    const ids = sampler.catalog.map((info) => info.id);
    assert.equal(new Set(ids).size, ids.length);
    assert.ok(ids.length >= 40);
    assert.equal(sampler.catalog.filter((info) => info.id.startsWith('synthetic.sensor')).length, SENSOR_COUNT);
    for (const group of ['process', 'machine', 'synthetic']) assert.ok(sampler.catalog.some((info) => info.group === group), group);
  } finally {
    sampler.close();
  }
});

it('reads every series as a finite number, in catalog order, the real ones within range', async () => {
  let now = 1_000_000;
  const sampler = new MetricSampler(() => now, () => 0.5);
  try {
    const busyUntil = Date.now() + 30;
    while (Date.now() < busyUntil); // some CPU to measure
    now += 50;
    const values = sampler.sample();
    assert.equal(values.length, sampler.catalog.length);
    assert.ok(values.every(Number.isFinite));
    const value = (id: string) => values[sampler.catalog.findIndex((info) => info.id === id)]!;
    assert.ok(value('process.memory.rss') > 10, 'RSS in MiB');
    assert.ok(value('process.cpu.user') >= 0);
    assert.ok(value('machine.memory.used') > 0 && value('machine.memory.used') < 100);
    assert.ok(value('machine.cpu') >= 0 && value('machine.cpu') <= 100);
    assert.equal(value('synthetic.sine'), Math.sin((now / 1000) * Math.PI));
    const sensor = value('synthetic.sensor01');
    assert.ok(sensor >= 15 && sensor <= 35);
  } finally {
    sampler.close();
  }
});
