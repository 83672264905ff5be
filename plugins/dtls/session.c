/* snowsignal - UDP broadcast relay
 * session.c: the dtls transport's session table (see session.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <arpa/inet.h>

#include "session.h"

struct dtls_table {
  GHashTable *slots;          /* &slot->key -> dtls_slot * */
  guint max_half_open;        /* per role */
  guint half_open;            /* pending server-role associations */
  guint half_open_clients;    /* pending client-role associations */
  void (*conn_free)(dtls_conn *conn);
};

static gint64
slot_key(const struct sockaddr_in *addr)
{
  return (gint64) ntohl(addr->sin_addr.s_addr) << 16 | ntohs(addr->sin_port);
}

static guint *
half_open_of(dtls_table *table, dtls_role role)
{
  return role == DTLS_ROLE_SERVER ? &table->half_open : &table->half_open_clients;
}

static void
conn_release(dtls_table *table, dtls_conn *conn)
{
  if (!conn)
    return;
  if (!conn->established)
    *half_open_of(table, conn->role) -= 1;
  if (table->conn_free)
    table->conn_free(conn);
  g_free(conn);
}

static void
slot_free(gpointer data)
{
  g_free(data);
}

dtls_table *
dtls_table_new(guint max_half_open, void (*conn_free)(dtls_conn *conn))
{
  dtls_table *table = g_new0(dtls_table, 1);
  table->slots = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, slot_free);
  table->max_half_open = max_half_open;
  table->conn_free = conn_free;
  return table;
}

void
dtls_table_free(dtls_table *table)
{
  if (!table)
    return;
  g_autoptr(GPtrArray) slots = dtls_table_slots(table);
  for (guint i = 0; i < slots->len; i++)
    dtls_table_remove(table, g_ptr_array_index(slots, i));
  g_hash_table_unref(table->slots);
  g_free(table);
}

dtls_slot *
dtls_table_lookup(dtls_table *table, const struct sockaddr_in *addr)
{
  gint64 key = slot_key(addr);
  return g_hash_table_lookup(table->slots, &key);
}

dtls_slot *
dtls_table_ensure(dtls_table *table, const struct sockaddr_in *addr)
{
  dtls_slot *slot = dtls_table_lookup(table, addr);
  if (slot)
    return slot;
  slot = g_new0(dtls_slot, 1);
  slot->key = slot_key(addr);
  slot->addr.sin_family = AF_INET;
  slot->addr.sin_addr = addr->sin_addr;
  slot->addr.sin_port = addr->sin_port;
  g_hash_table_insert(table->slots, &slot->key, slot);
  return slot;
}

dtls_slot *
dtls_table_find_established(dtls_table *table, uint32_t addr_be)
{
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init(&it, table->slots);
  while (g_hash_table_iter_next(&it, NULL, &value)) {
    dtls_slot *slot = value;
    if (slot->addr.sin_addr.s_addr == addr_be && slot->current)
      return slot;
  }
  return NULL;
}

dtls_conn *
dtls_table_begin(dtls_table *table, const struct sockaddr_in *addr, dtls_role role, gint64 now_us)
{
  dtls_slot *slot = dtls_table_lookup(table, addr);
  /* A handshake that replaces a pending one (one pending per slot) is not
   * refused: the address is already one of those counted. */
  gboolean replaces = slot && slot->pending;
  if (!replaces && *half_open_of(table, role) >= table->max_half_open)
    return NULL;
  slot = dtls_table_ensure(table, addr);
  conn_release(table, slot->pending);
  dtls_conn *conn = g_new0(dtls_conn, 1);
  conn->slot = slot;
  conn->role = role;
  conn->started_us = now_us;
  conn->last_rx_us = now_us;
  conn->last_tx_us = now_us;
  *half_open_of(table, role) += 1;
  slot->pending = conn;
  return conn;
}

void
dtls_table_established(dtls_table *table, dtls_conn *conn)
{
  dtls_slot *slot = conn->slot;
  g_return_if_fail(slot->pending == conn);
  *half_open_of(table, conn->role) -= 1;
  conn->established = TRUE;
  slot->pending = NULL;
  conn_release(table, slot->previous);
  slot->previous = slot->current;
  slot->current = conn;
}

void
dtls_table_drop(dtls_table *table, dtls_conn *conn)
{
  dtls_slot *slot = conn->slot;
  if (slot->pending == conn)
    slot->pending = NULL;
  else if (slot->current == conn)
    slot->current = NULL;
  else if (slot->previous == conn)
    slot->previous = NULL;
  else
    g_return_if_reached();
  conn_release(table, conn);
  if (!slot->pending && !slot->current && !slot->previous && !slot->keep)
    g_hash_table_remove(table->slots, &slot->key);
}

void
dtls_table_remove(dtls_table *table, dtls_slot *slot)
{
  conn_release(table, g_steal_pointer(&slot->pending));
  conn_release(table, g_steal_pointer(&slot->current));
  conn_release(table, g_steal_pointer(&slot->previous));
  g_hash_table_remove(table->slots, &slot->key);
}

guint
dtls_table_half_open(const dtls_table *table)
{
  return table->half_open;
}

guint
dtls_table_half_open_clients(const dtls_table *table)
{
  return table->half_open_clients;
}

guint
dtls_table_size(const dtls_table *table)
{
  return g_hash_table_size(table->slots);
}

GPtrArray *
dtls_table_slots(dtls_table *table)
{
  GPtrArray *slots = g_ptr_array_new();
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init(&it, table->slots);
  while (g_hash_table_iter_next(&it, NULL, &value))
    g_ptr_array_add(slots, value);
  return slots;
}
